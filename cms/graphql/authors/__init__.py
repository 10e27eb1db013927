"""Authors in the GraphQL API."""
