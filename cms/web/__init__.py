"""The HTTP edge of the CMS: the GraphiQL page, health probes, and the security middleware."""
