"""Log lines: JSON for machines in production and test, coloured text for people in development.

structlog renders every line, including those of the standard library's loggers (uvicorn's, the
GraphQL error log with its traceback), so a JSON deployment never mixes formats. Every line
carries a UTC timestamp, the level, the logger, the process id (several workers share one
stream) and whatever the current request has bound, notably ``request_id``.

uvicorn's own access log is silenced: the observability middleware writes one richer line per
request instead (see ``cms.observability.middleware``).

That line is on every request's path, so structlog's own loggers skip the standard library:
a level filter fixed at configuration (a ``debug`` call below the level is a no-op), orjson,
and one write to stderr. Lines from the standard library's loggers (rarer: uvicorn's start-up,
errors with tracebacks) still go through ``logging`` and are rendered by the same processors.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import orjson
import structlog

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

    from cms.settings import Settings

__all__ = ["configure_logging", "get_logger"]


def _add_pid(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    event_dict["pid"] = os.getpid()
    return event_dict


def _orjson_text(value: Any, **options: Any) -> str:
    return orjson.dumps(value, **options).decode()


class _StderrLogger:
    """Where structlog's own loggers write: one write of the rendered line to the stderr of the
    moment (as ``_CMSHandler`` does, for tests that capture it). ``name`` is the logger's."""

    def __init__(self, name: str) -> None:
        self.name = name

    def msg(self, line: str) -> None:
        sys.stderr.write(line + "\n")

    debug = info = warning = error = critical = exception = msg


@functools.cache
def _stderr_logger(name: str = "") -> _StderrLogger:
    return _StderrLogger(name)


class _CMSHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our handler on the root logger, recognisable so that reconfiguring replaces it.

    It writes to whatever ``sys.stderr`` is at the time of each line, so that a test
    capturing stderr sees lines from an app built before the capture began.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(settings: Settings) -> None:
    """Route all logging through structlog in the format ``settings`` asks for (idempotent)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_pid,
    ]
    renderer: list[Processor]
    if settings.json_logs:
        renderer = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_orjson_text),
        ]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_logger_name,  # reads the name of the logger it is given
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_pid,
            *renderer,
        ],
        logger_factory=_stderr_logger,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Tests build apps with different settings in one process; a cache would pin the first.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _CMSHandler)]:
        root.removeHandler(handler)
    handler = _CMSHandler(sys.stderr)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn installs handlers of its own in every worker; send its lines through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    """A structlog logger: ``log.info("event", key=value, ...)``, its lines naming ``name``."""
    return structlog.get_logger(name)
