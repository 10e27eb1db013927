"""The browser-facing side of the CMS: the GraphiQL page and the static files it loads."""
