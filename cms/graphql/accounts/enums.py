"""The account enums of the domain, registered as GraphQL enums.

``strawberry.enum`` marks the domain's own classes, so fields annotated with ``Role`` or
``Permission`` become GraphQL enums while mypy still sees the real ``StrEnum`` types. Import
them from here (not from ``cms.models``) so that the registration is sure to have happened.
"""

from __future__ import annotations

import strawberry

from cms.models import Role
from cms.permissions import Permission

__all__ = ["Permission", "Role"]

strawberry.enum(Role, name="Role", description="What an author may do.")
strawberry.enum(
    Permission,
    name="Permission",
    description="One thing a role may do; API tokens are limited to the ones they name.",
)
