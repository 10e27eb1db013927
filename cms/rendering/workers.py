"""Rendering section bodies when they are written: off the event loop, bounded in time and size.

Every path that writes a section's body (the post and section mutations, revision restore,
``cms import``, the JSON import, ``cms generate``) renders it through :func:`render_bodies` and
stores the result on the row beside the body; reads return the stored values and never render.

The bounds, each refused with BAD_USER_INPUT on the section's ``body``, naming the limit:

- shape, before any work: :func:`cms.rendering.markdown.shape_problem`;
- time: each body renders in a worker process of a small pool (``RENDER_WORKERS``), which is
  killed when the body takes longer than ``RENDER_TIMEOUT_SECONDS``. A thread could not be
  interrupted; a process can, and the event loop only awaits it. When the caller is cancelled
  (the operation timeout), the bodies still queued are dropped and running ones are killed;
- size: a body whose HTML or plain text exceeds ``MAX_RENDERED_BYTES`` (a wide table with
  many short rows multiplies its markdown a hundredfold) is refused in the worker, so the
  oversized result never crosses back.

Workers start from a fork server that preloads the renderer, never by forking the serving
process (its threads and open connections must not be copied); the pool starts on first use
and pebble stops its workers when the interpreter exits.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from html import escape

from pebble import ProcessPool

from cms.errors import InvalidInput
from cms.rendering.markdown import MAX_RENDERED_BYTES, Rendered, render, shape_problem

__all__ = ["RENDER_TIMEOUT_SECONDS", "render_bodies", "render_or_escape"]

# Far above the slowest body the shape bound admits (about 0.6 s on an idle core), so that a
# busy machine does not refuse ordinary content; the operation timeout still bounds a write.
RENDER_TIMEOUT_SECONDS = 5.0
RENDER_WORKERS = 2

_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


def _render_bounded(body: str) -> Rendered | str:
    """In the worker: the rendered body, or why it is refused (too large once rendered)."""
    rendered = render(body)
    size = max(len(rendered.html.encode()), len(rendered.plain_text.encode()))
    if size > MAX_RENDERED_BYTES:
        return (
            f"renders to more than {MAX_RENDERED_BYTES} bytes of HTML; "
            "split it into several sections."
        )
    return rendered


def _workers() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _pool = ProcessPool(max_workers=RENDER_WORKERS, context=context)
        return _pool


async def render_bodies(bodies: Sequence[str], *, fields: Sequence[str]) -> list[Rendered]:
    """Each body rendered, in order; ``fields[i]`` names body i in a refusal.

    Raises InvalidInput for the first body (in order) that breaks a bound; nothing is
    returned for the others, so a caller writes all the sections or none.
    """
    for body, field in zip(bodies, fields, strict=True):
        problem = shape_problem(body)
        if problem is not None:
            raise InvalidInput(f"`{field}` {problem}", field=field)
    if not bodies:
        return []
    pool = _workers()
    # Typed as the standard futures they are, whose methods are typed.
    futures: list[Future[Rendered | str]] = [
        pool.schedule(_render_bounded, (body,), timeout=RENDER_TIMEOUT_SECONDS) for body in bodies
    ]
    rendered: list[Rendered] = []
    try:
        # Waiting for one after another is enough: the pool renders the others meanwhile.
        for future, field in zip(futures, fields, strict=True):
            try:
                result = await asyncio.wrap_future(future)
            except FutureTimeout:
                raise InvalidInput(
                    f"`{field}` took longer than {RENDER_TIMEOUT_SECONDS:g} s to render; "
                    "simplify it or split it into several sections.",
                    field=field,
                ) from None
            if isinstance(result, str):
                raise InvalidInput(f"`{field}` {result}", field=field)
            rendered.append(result)
    finally:
        for future in futures:  # after a refusal or a cancellation, drop or kill the rest
            future.cancel()
    return rendered


async def render_or_escape(body: str) -> Rendered:
    """``body`` rendered within the bounds, or else shown as its escaped text.

    For bodies stored before the bounds existed (old rows, old revisions): they were accepted
    once and must still be shown, but never rendered past the bounds.
    """
    try:
        (rendered,) = await render_bodies([body], fields=["body"])
    except InvalidInput:
        return Rendered(html=f"<pre>{escape(body)}</pre>\n", plain_text=body)
    return rendered
