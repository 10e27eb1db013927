"""Running the ``cms`` command as a real process against its own SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def cms(*args: str, db: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMS_DATABASE_URL": f"sqlite://{db}"}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cms", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        (rows,) = connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()  # noqa: S608
        return int(rows)
