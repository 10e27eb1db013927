"""Content in and out of the CMS: the plain-text and JSON formats, imports, generated content."""
