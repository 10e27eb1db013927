"""Error codes are spelled in one module, whose exception tree is real; each has a status."""

from __future__ import annotations

import ast
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


def _spelled_codes(path: Path) -> list[tuple[int, str]]:
    """String literals in ``path`` that spell an error code, docstrings aside."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    codes = set(ErrorCode)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in codes
        and id(node) not in docstrings
    ]


def test_error_codes_are_spelled_only_in_cms_errors() -> None:
    spelled = {
        str(path.relative_to(CMS_ROOT)): found
        for path in sorted(CMS_ROOT.rglob("*.py"))
        if path != Path(cms.errors.__file__) and (found := _spelled_codes(path))
    }
    assert spelled == {}


def test_every_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert http_status(ErrorCode.PAYLOAD_TOO_LARGE) == 413
    assert http_status(ErrorCode.UNAUTHENTICATED) == 401
    assert http_status("SOMETHING_ELSE") == 400
