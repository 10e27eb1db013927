"""The coarse permission check of the per-post mutations: "may do this to some post".

Whether the viewer may act on *this* post (their own, or any) is decided by the service once
the post is loaded; it raises ``PermissionDenied``, a top-level FORBIDDEN error. This class only
turns away, before any work, viewers who may do it to no post at all.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from strawberry.permission import BasePermission

from cms.errors import PermissionDenied
from cms.graphql.permissions import IsAuthenticated
from cms.permissions import Permission

if TYPE_CHECKING:
    from cms.graphql.context import Info


@cache
def require_on_some_post(own: Permission, any_: Permission) -> type[BasePermission]:
    """Grants viewers holding ``own`` or ``any_``; UNAUTHENTICATED for anonymous viewers."""

    class RequireOnPost(BasePermission):
        message = f"You have neither the `{own.value}` nor the `{any_.value}` permission."
        error_extensions = {"code": PermissionDenied.code}  # noqa: RUF012 (strawberry's API)

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            viewer = info.context.viewer
            if not viewer.is_authenticated:
                IsAuthenticated().on_unauthorized()
            return viewer.can(own) or viewer.can(any_)

    # Strawberry names a schema directive after each permission class; keep the names unique.
    name = "Require" + "".join(part.title() for part in any_.name.split("_")) + "OrOwn"
    RequireOnPost.__name__ = RequireOnPost.__qualname__ = name
    return RequireOnPost
