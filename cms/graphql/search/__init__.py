"""Full-text search: the `search` root field and its connection type."""

from cms.graphql.search.queries import SearchQueries

__all__ = ["SearchQueries"]
