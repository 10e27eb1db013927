"""Authentication: who is making a request (passwords, bearer tokens, the request's viewer)."""
