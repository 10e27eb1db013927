"""The fastest baseline's own schema: the CMS's rows copied into tables shaped for the headline.

The headline is "the 20 newest live posts of one tag, with author name, tag names and
sections". The CMS's schema serves every read; this one serves only that read, so each step
of it (the tag's newest links, each post, its tags, its sections) is one range of one key:

- ``link (tag_id, published_at, post_id)``: one row per tag of each *live-status* post (published
  or scheduled, not deleted), clustered by that key, so that a tag's newest posts are the first
  rows of a backward index walk from now; drafts and deleted posts are simply absent. The time
  test stays in the query because a scheduled post becomes visible when its time comes.
- ``post (id, title, slug, author_name)``: the author's name copied into the row (no join).
- ``post_tag (post_id, name, tag_id)``: tag names copied in, keyed in the order the CMS lists
  them (name, then id), so the statement reads them already sorted.
- ``section (post_id, position, heading, body)``: keyed by (post_id, position).

SQLite gets a separate file (``WITHOUT ROWID`` tables, so each table *is* its key's b-tree);
PostgreSQL gets a schema ``bench_fast`` in the same database, each table clustered on its key.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SQLITE_TABLES = """
CREATE TABLE fast.link (
    tag_id INTEGER NOT NULL, published_at TEXT NOT NULL, post_id INTEGER NOT NULL,
    PRIMARY KEY (tag_id, published_at, post_id)
) WITHOUT ROWID;
CREATE TABLE fast.post (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, slug TEXT NOT NULL, author_name TEXT NOT NULL
);
CREATE TABLE fast.post_tag (
    post_id INTEGER NOT NULL, name TEXT NOT NULL, tag_id INTEGER NOT NULL,
    PRIMARY KEY (post_id, name, tag_id)
) WITHOUT ROWID;
CREATE TABLE fast.section (
    post_id INTEGER NOT NULL, position INTEGER NOT NULL, heading TEXT, body TEXT NOT NULL,
    PRIMARY KEY (post_id, position)
) WITHOUT ROWID;
CREATE TABLE fast.tag (slug TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;

INSERT INTO fast.tag SELECT slug, id FROM main.tag;
INSERT INTO fast.link
    SELECT pt.tag_id, p.published_at, p.id
    FROM main.post_tag pt JOIN main.post p ON p.id = pt.post_id
    WHERE p.status IN ('PUBLISHED', 'SCHEDULED') AND p.deleted_at IS NULL
      AND p.published_at IS NOT NULL;
INSERT INTO fast.post
    SELECT p.id, p.title, p.slug, a.name FROM main.post p JOIN main.author a ON a.id = p.author_id
    WHERE p.status IN ('PUBLISHED', 'SCHEDULED') AND p.deleted_at IS NULL;
INSERT INTO fast.post_tag
    SELECT pt.post_id, t.name, t.id FROM main.post_tag pt JOIN main.tag t ON t.id = pt.tag_id
    WHERE pt.post_id IN (SELECT id FROM fast.post);
INSERT INTO fast.section
    SELECT post_id, position, heading, body FROM main.section
    WHERE post_id IN (SELECT id FROM fast.post);
"""

POSTGRES_TABLES = """
DROP SCHEMA IF EXISTS bench_fast CASCADE;
CREATE SCHEMA bench_fast;
CREATE TABLE bench_fast.tag AS SELECT slug, id FROM public.tag;
CREATE TABLE bench_fast.link AS
    SELECT pt.tag_id, p.published_at, p.id AS post_id
    FROM public.post_tag pt JOIN public.post p ON p.id = pt.post_id
    WHERE p.status IN ('PUBLISHED', 'SCHEDULED') AND p.deleted_at IS NULL
      AND p.published_at IS NOT NULL;
CREATE TABLE bench_fast.post AS
    SELECT p.id, p.title, p.slug, a.name AS author_name
    FROM public.post p JOIN public.author a ON a.id = p.author_id
    WHERE p.status IN ('PUBLISHED', 'SCHEDULED') AND p.deleted_at IS NULL;
CREATE TABLE bench_fast.post_tag AS
    SELECT pt.post_id, t.name, t.id AS tag_id
    FROM public.post_tag pt JOIN public.tag t ON t.id = pt.tag_id
    WHERE pt.post_id IN (SELECT id FROM bench_fast.post);
CREATE TABLE bench_fast.section AS
    SELECT post_id, position, heading, body FROM public.section
    WHERE post_id IN (SELECT id FROM bench_fast.post);
ALTER TABLE bench_fast.tag ADD PRIMARY KEY (slug);
ALTER TABLE bench_fast.link ADD PRIMARY KEY (tag_id, published_at, post_id);
ALTER TABLE bench_fast.post ADD PRIMARY KEY (id);
ALTER TABLE bench_fast.post_tag ADD PRIMARY KEY (post_id, name, tag_id);
ALTER TABLE bench_fast.section ADD PRIMARY KEY (post_id, position);
CLUSTER bench_fast.link USING link_pkey;
CLUSTER bench_fast.post_tag USING post_tag_pkey;
CLUSTER bench_fast.section USING section_pkey;
"""


def copy_sqlite(cms_file: Path, fast_file: Path) -> None:
    """Write the fast schema into ``fast_file`` (replaced) from the CMS database ``cms_file``."""
    fast_file.unlink(missing_ok=True)
    with sqlite3.connect(cms_file) as db:
        db.execute("ATTACH DATABASE ? AS fast", (str(fast_file),))
        db.executescript(SQLITE_TABLES)
        db.commit()
        db.execute("ANALYZE fast")
        db.commit()
    db.close()


async def copy_postgres(database_url: str) -> None:
    """Write the fast schema into the schema ``bench_fast`` of ``database_url`` (replaced)."""
    import asyncpg  # type: ignore[import-untyped]

    db = await asyncpg.connect(database_url)
    try:
        await db.execute(POSTGRES_TABLES)
        # VACUUM sets the visibility map, which index-only scans of ``link`` depend on.
        await db.execute("VACUUM ANALYZE bench_fast.link, bench_fast.post, bench_fast.tag")
        await db.execute("VACUUM ANALYZE bench_fast.post_tag, bench_fast.section")
    finally:
        await db.close()
