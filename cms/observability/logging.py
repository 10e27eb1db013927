"""Log lines: JSON for machines in production and test, coloured text for people in development.

structlog renders every line, including those of the standard library's loggers (uvicorn's, the
GraphQL error log with its traceback), so a JSON deployment never mixes formats. Every line
carries a UTC timestamp, the level, the logger, the process id (several workers share one
stream) and whatever the current request has bound, notably ``request_id``.

uvicorn's own access log is silenced: the observability middleware writes one richer line per
request instead (see ``cms.observability.middleware``).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

    from cms.settings import Settings

__all__ = ["configure_logging", "get_logger"]


def _add_pid(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    event_dict["pid"] = os.getpid()
    return event_dict


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
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
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
    root.setLevel(settings.log_level.upper())
    # uvicorn installs handlers of its own in every worker; send its lines through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    """A structlog logger: ``log.info("event", key=value, ...)``."""
    return structlog.stdlib.get_logger(name)
