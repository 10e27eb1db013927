"""The exception tree drawn in cms.errors is the real one, and every code has its HTTP status."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import cms
import cms.errors
from cms.errors import CMSError, ErrorCode
from cms.web.responses import HTTP_STATUS, http_status

CMS_ROOT = Path(cms.__file__).parent
_TREE_LINE = re.compile(r"^\s*(?P<indent>(?:│   |    )*)(?:├── |└── )?(?P<name>[A-Z]\w+)")


def _drawn_tree() -> set[tuple[str, str | None]]:
    """(class, parent) pairs from the tree in cms.errors' docstring."""
    doc = cms.errors.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n", 2)[1]
    pairs: set[tuple[str, str | None]] = set()
    parents: list[str] = []
    for line in block.splitlines():
        match = _TREE_LINE.match(line.removeprefix("    "))
        assert match, line
        depth = len(match["indent"]) // 4 + (0 if match["name"] == "CMSError" else 1)
        del parents[depth:]
        pairs.add((match["name"], parents[-1] if parents else None))
        parents.append(match["name"])
    return pairs


def _real_tree() -> set[tuple[str, str | None]]:
    for module in pkgutil.walk_packages([str(CMS_ROOT)], "cms."):
        if ".migrations." not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    pairs: set[tuple[str, str | None]] = {("CMSError", None)}
    pending = [CMSError]
    while pending:
        parent = pending.pop()
        for child in parent.__subclasses__():
            pairs.add((child.__name__, parent.__name__))
            pending.append(child)
    return pairs


def test_the_drawn_exception_tree_is_every_cms_error_and_where_it_hangs() -> None:
    assert _drawn_tree() == _real_tree()


def test_every_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert http_status(ErrorCode.PAYLOAD_TOO_LARGE) == 413
    assert http_status(ErrorCode.UNAUTHENTICATED) == 401
    assert http_status("SOMETHING_ELSE") == 400
