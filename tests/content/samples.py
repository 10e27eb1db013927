"""The plain-text exports the tests read.

``SAMPLE`` is the project's own, written for the tests and always present: several posts under
one tag, an intro before each post's first heading, a heading repeated within one post, and
runs of blank lines and a whitespace-only line at the end. Tests feed it as CRLF too.

``SHARED_SAMPLE`` is real content that exists only beside the team's own checkouts
(``../shared``); tests about it are marked ``needs_shared_sample`` and skip, saying why, in a
user's clone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = Path(__file__).with_name("sample-posts.txt")
SHARED_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "content" / "nosql-posts.txt"

needs_shared_sample = pytest.mark.skipif(
    not SHARED_SAMPLE.exists(),
    reason=f"{SHARED_SAMPLE} is absent: the shared sample exists only beside the team's checkouts",
)
