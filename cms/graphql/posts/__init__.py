"""Posts and their sections in the GraphQL API."""
