"""Install the uv that ``uv.lock`` pins into the running interpreter's environment.

The quick start promises that Python 3.11+ and make are all a new machine needs. uv is what
installs everything else from the lock, so it is bootstrapped with pip, and checked against the
same lock: the version and every wheel hash come from ``uv.lock``'s own ``uv`` entry, so pip
refuses any other file. There is no second pin to keep in step.

Usage: ``.venv/bin/python tools/bootstrap_uv.py [path/to/uv.lock]``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path


def requirement_line(lock: Path) -> str:
    """``uv==X --hash=... --hash=...`` for the uv release that ``lock`` pins."""
    with lock.open("rb") as file:
        packages = tomllib.load(file)["package"]
    try:
        (uv,) = (package for package in packages if package["name"] == "uv")
    except ValueError:
        raise SystemExit(f"{lock}: no 'uv' package is locked; add it to the dev group") from None
    files = [*uv.get("wheels", []), *([uv["sdist"]] if "sdist" in uv else [])]
    hashes = " ".join(f"--hash={file['hash']}" for file in files)
    return f"uv=={uv['version']} {hashes}\n"


def main() -> None:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "uv.lock")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirements:
        requirements.write(requirement_line(lock))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--require-hashes", "--requirement", requirements.name]
    try:
        subprocess.run(command, check=True)  # noqa: S603 - our own interpreter and arguments
    finally:
        Path(requirements.name).unlink()


if __name__ == "__main__":
    main()
