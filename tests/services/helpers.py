"""Viewers and a movable clock for service-level tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from cms.auth.viewer import Viewer
from cms.models import Author, Role
from tests.factories import BASE_TIME, make_author


async def viewer_for(role: Role, **fields: object) -> tuple[Viewer, Author]:
    """A new author with ``role`` and the viewer that acts for them."""
    author = await make_author(role=role, **fields)
    return Viewer(author_id=author.id, role=role), author


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = BASE_TIME) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
