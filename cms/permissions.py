"""Who may do what: every permission and every role's grant, declared in this one table.

Permissions are ``"domain.action"`` strings. "Own" permissions apply to posts the viewer
wrote; "any" permissions to every post. Reading drafts is separate from reading published
content, which needs no permission at all.
"""

from __future__ import annotations

from enum import StrEnum

from cms.models import Role


class Permission(StrEnum):
    POSTS_CREATE = "posts.create"
    POSTS_READ_OWN_DRAFTS = "posts.read_own_drafts"
    POSTS_READ_ANY_DRAFTS = "posts.read_any_drafts"
    POSTS_EDIT_OWN = "posts.edit_own"
    POSTS_EDIT_ANY = "posts.edit_any"
    POSTS_PUBLISH_OWN = "posts.publish_own"
    POSTS_PUBLISH_ANY = "posts.publish_any"
    POSTS_DELETE_OWN = "posts.delete_own"
    POSTS_DELETE_ANY = "posts.delete_any"
    POSTS_CHANGE_AUTHOR = "posts.change_author"
    TAGS_MANAGE = "tags.manage"
    PROFILE_EDIT_OWN = "profile.edit_own"
    TOKENS_MANAGE_OWN = "tokens.manage_own"
    # Listing and ending one's own sign-in sessions; other people's need `users.manage`.
    SESSIONS_MANAGE_OWN = "sessions.manage_own"
    PASSWORD_CHANGE_OWN = "password.change_own"  # noqa: S105 - a permission's name
    USERS_MANAGE = "users.manage"
    WEBHOOKS_MANAGE = "webhooks.manage"


_AUTHOR = frozenset(
    {
        Permission.POSTS_CREATE,
        Permission.POSTS_READ_OWN_DRAFTS,
        Permission.POSTS_EDIT_OWN,
        Permission.POSTS_PUBLISH_OWN,
        Permission.POSTS_DELETE_OWN,
        Permission.PROFILE_EDIT_OWN,
        Permission.TOKENS_MANAGE_OWN,
        Permission.SESSIONS_MANAGE_OWN,
        Permission.PASSWORD_CHANGE_OWN,
    }
)
_EDITOR = _AUTHOR | {
    Permission.POSTS_READ_ANY_DRAFTS,
    Permission.POSTS_EDIT_ANY,
    Permission.POSTS_PUBLISH_ANY,
    Permission.POSTS_DELETE_ANY,
    Permission.POSTS_CHANGE_AUTHOR,
    Permission.TAGS_MANAGE,
}
# `users.manage` also covers deactivating and reactivating accounts, and listing and ending
# other people's sessions.
_ADMIN = _EDITOR | {Permission.USERS_MANAGE, Permission.WEBHOOKS_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUTHOR: _AUTHOR,
    Role.EDITOR: frozenset(_EDITOR),
    Role.ADMIN: frozenset(_ADMIN),
}
