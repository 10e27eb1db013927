"""Domain operations of the CMS. Nothing here knows about GraphQL."""
