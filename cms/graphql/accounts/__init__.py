"""Accounts in the GraphQL API: signing in and out, the viewer, API tokens, users and roles."""

from cms.graphql.accounts.mutations import AccountMutations
from cms.graphql.accounts.queries import AccountQueries

__all__ = ["AccountMutations", "AccountQueries"]
