"""The files the ``cms`` command reads and writes, each failure one line that names the file.

An import reads its file once, as bytes: the JSON path parses bytes, the plain-text path decodes
them here, so that a file in another encoding or another format entirely (an image, an archive)
is reported with the offset of the first byte that is not UTF-8 instead of a traceback.

Errors::

    InvalidInput (cms.errors)
    └── FileProblem    the file cannot be read, decoded or written; nothing was changed
"""

from __future__ import annotations

from pathlib import Path

from cms.errors import InvalidInput


class FileProblem(InvalidInput):
    """Raised when a file named on the command line cannot be read, decoded or written."""


def read_bytes(path: Path) -> bytes:
    """The whole file; FileProblem for a missing file, a directory or a refused read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileProblem(f"cannot read {path}: {exc.strerror or exc}") from exc


def decode_text(path: Path, raw: bytes) -> str:
    """``raw`` as UTF-8 text; FileProblem naming the byte offset where it stops being UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise FileProblem(
            f"{path}: not UTF-8 text: byte 0x{byte:02x} at offset {exc.start} "
            "(exports are UTF-8 plain text or JSON; re-save the file as UTF-8)"
        ) from exc


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``; FileProblem when the folder is missing or refuses it."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise FileProblem(f"cannot write {path}: {exc.strerror or exc}") from exc
