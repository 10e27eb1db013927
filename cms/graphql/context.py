"""The per-request context: settings, what the viewer may see, and fresh batch loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import ExecutionContext
from strawberry.types import Info as StrawberryInfo

from cms.auth.backend import authenticate
from cms.auth.throttle import LoginThrottle
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.errors import Unauthenticated
from cms.graphql.analysis import Analysis
from cms.graphql.loaders.authors import AuthorByIdLoader
from cms.graphql.loaders.posts import (
    PostCountByParentLoader,
    PostPageByParentLoader,
    SectionsByPostIdLoader,
    TagsByPostIdLoader,
)
from cms.graphql.loaders.tags import PostCountByTagIdLoader
from cms.services.previews import previewed_post_ids
from cms.services.visibility import Visibility
from cms.settings import Settings

# A token from `createPreviewToken`: lets this request read that one post whatever its status.
PREVIEW_TOKEN_HEADER = "x-preview-token"  # noqa: S105 - a header name, not a secret


@dataclass
class Loaders:
    """One instance per request, so that cached rows never leak between viewers."""

    visibility: Visibility
    author_by_id: AuthorByIdLoader = field(init=False)
    sections_by_post_id: SectionsByPostIdLoader = field(init=False)
    tags_by_post_id: TagsByPostIdLoader = field(init=False)
    post_count_by_tag_id: PostCountByTagIdLoader = field(init=False)
    post_page_by_parent: PostPageByParentLoader = field(init=False)
    post_count_by_parent: PostCountByParentLoader = field(init=False)

    def __post_init__(self) -> None:
        self.author_by_id = AuthorByIdLoader()
        self.sections_by_post_id = SectionsByPostIdLoader()
        self.tags_by_post_id = TagsByPostIdLoader()
        self.post_count_by_tag_id = PostCountByTagIdLoader(self.visibility)
        self.post_page_by_parent = PostPageByParentLoader(self.visibility)
        self.post_count_by_parent = PostCountByParentLoader(self.visibility)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    viewer: Viewer
    visibility: Visibility
    loaders: Loaders
    # Shared by every request to one app, so that login attempts add up (see cms.auth.throttle).
    login_throttle: LoginThrottle
    # Set when the request carried a bad bearer token: the viewer is then anonymous, and the
    # RejectInvalidCredentials extension fails the operation with this error.
    auth_error: Unauthenticated | None = None
    # What the operation selects, made (or found in its cache) by the operation guard before
    # execution; the compiled executor plans from it. None until then, and for operations the
    # guard does not analyse.
    analysis: Analysis | None = None


def context_of(execution: ExecutionContext) -> Context:
    """The request's context in a schema extension. Every operation of the CMS's schema runs
    with one: the HTTP view and the WebSocket handler build it (``build_context``)."""
    context = execution.context
    if not isinstance(context, Context):
        raise TypeError(f"the CMS schema runs with a {Context.__qualname__}, not {context!r}")
    return context


async def build_context(
    request: Request | WebSocket, response: object, settings: Settings
) -> Context:
    """The context of one operation. ``response`` is the HTTP response being made, whose status
    and headers extensions may set; over a WebSocket strawberry passes the socket, which has
    neither, and the context holds None."""
    auth_error: Unauthenticated | None = None
    try:
        viewer = await authenticate(request)
    except Unauthenticated as exc:
        viewer, auth_error = ANONYMOUS, exc
    # One moment for the whole request, so that every read agrees on what is live.
    now = datetime.now(UTC)
    previewed = await previewed_post_ids(request.headers.get(PREVIEW_TOKEN_HEADER), now=now)
    visibility = Visibility.for_viewer(viewer, preview_post_ids=previewed, now=now)
    return Context(
        request=request,
        response=response if isinstance(response, Response) else None,
        settings=settings,
        viewer=viewer,
        visibility=visibility,
        loaders=Loaders(visibility),
        login_throttle=request.app.state.login_throttle,
        auth_error=auth_error,
    )


Info = StrawberryInfo[Context, None]
