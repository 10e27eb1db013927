"""The per-request context: settings, what the viewer may see, and fresh batch loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from cms.auth.viewer import ANONYMOUS, Viewer
from cms.graphql.authors.loaders import AuthorByIdLoader
from cms.graphql.posts.loaders import SectionsByPostIdLoader, TagsByPostIdLoader
from cms.graphql.tags.loaders import PostCountByTagIdLoader
from cms.services.visibility import Visibility
from cms.settings import Settings


@dataclass
class Loaders:
    """One instance per request, so that cached rows never leak between viewers."""

    visibility: Visibility
    author_by_id: AuthorByIdLoader = field(init=False)
    sections_by_post_id: SectionsByPostIdLoader = field(init=False)
    tags_by_post_id: TagsByPostIdLoader = field(init=False)
    post_count_by_tag_id: PostCountByTagIdLoader = field(init=False)

    def __post_init__(self) -> None:
        self.author_by_id = AuthorByIdLoader()
        self.sections_by_post_id = SectionsByPostIdLoader()
        self.tags_by_post_id = TagsByPostIdLoader()
        self.post_count_by_tag_id = PostCountByTagIdLoader(self.visibility)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    viewer: Viewer
    visibility: Visibility
    loaders: Loaders


async def build_context(
    request: Request | WebSocket, response: Response | None, settings: Settings
) -> Context:
    viewer = ANONYMOUS
    visibility = Visibility.anonymous()
    return Context(
        request=request,
        response=response,
        settings=settings,
        viewer=viewer,
        visibility=visibility,
        loaders=Loaders(visibility),
    )


Info = StrawberryInfo[Context, None]
