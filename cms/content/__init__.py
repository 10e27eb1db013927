"""Content in and out of the CMS: markdown rendering, the plain-text format, generated content."""
