"""A headless CMS: posts made of sections, grouped by tags, served over GraphQL."""

__version__ = "0.1.0"
