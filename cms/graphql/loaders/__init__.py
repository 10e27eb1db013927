"""The per-request batch loaders (``<Target>By<Key>Loader``), which the context builds.

They sit below the per-domain packages because ``cms.graphql.context`` builds them and every
domain's types read the context: kept inside ``posts/``, ``tags/`` and ``authors/`` they made
each of those packages and the context import one another.
"""
