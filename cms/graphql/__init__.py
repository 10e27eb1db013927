"""The GraphQL API: translates between GraphQL and the services; holds no domain rules."""
