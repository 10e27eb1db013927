"""The HTTP edge of the CMS: GraphiQL, health probes, /metrics, and the security middleware."""
