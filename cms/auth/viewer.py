"""The viewer: who a request acts for, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field

from cms.models import Role
from cms.permissions import ROLE_PERMISSIONS, Permission


@dataclass(frozen=True)
class Viewer:
    """An anonymous reader (no ``author_id``) or a signed-in author with a role.

    ``scopes`` narrows what a token may do below its owner's role: an API token created with
    scopes grants only the permissions both its role and its scopes name.
    """

    author_id: int | None = None
    role: Role | None = None
    token_id: int | None = None
    scopes: frozenset[Permission] | None = None
    preview_post_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.author_id is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        granted = ROLE_PERMISSIONS.get(self.role, frozenset()) if self.role else frozenset()
        return granted & self.scopes if self.scopes is not None else granted

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def can_on_post(self, own: Permission, any_: Permission, *, post_author_id: int) -> bool:
        """Whether the viewer holds ``any_``, or ``own`` and wrote the post."""
        return self.can(any_) or (self.can(own) and post_author_id == self.author_id)


ANONYMOUS = Viewer()
