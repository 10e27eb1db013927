"""The W3 baseline's own schema: the CMS's rows copied into tables shaped for the seven list reads.

Each read of ``scale.py`` becomes one or two ranges of one key here, the fastest layout we know
for it, so that the ratio of the CMS to this baseline cannot flatter the CMS:

- ``newest (published_at, id, title, slug)``: every live-status post (published or scheduled,
  not deleted), keyed in the site's order; the newest page is a backward walk from now, a page
  further on is the same walk from its cursor.
- ``by_title (title, id, published_at, slug)``: the same posts keyed by title.
- ``tag_link (tag_id, published_at, post_id)`` and ``author_link (author_id, published_at,
  post_id, title, slug)``: each tag's and author's posts in the site's order.
- ``post (id, title, slug)``: what a tag page shows of each post.
- ``tag`` and ``author (name, id, slug, listed)``: keyed by name (their lists' order) with
  ``listed`` the number of live-status posts, as counters a writer would keep. A count subtracts
  the posts scheduled for later, a range of the link key past now: time, not writes, makes a
  scheduled post visible.
- ``site (listed)``: the site's count, kept the same way.

SQLite gets a file of its own (``WITHOUT ROWID`` tables: each table is its key's b-tree);
PostgreSQL gets the schema ``bench_w3_fast`` beside the CMS's tables, each table clustered on
its key.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def _live(alias: str) -> str:
    """What "live-status" means in the CMS's ``post`` table: published or scheduled, not trashed."""
    return (
        f"{alias}.status IN ('PUBLISHED', 'SCHEDULED') AND {alias}.deleted_at IS NULL "
        f"AND {alias}.published_at IS NOT NULL"
    )


_LIVE = _live("post")

# Only trusted text is formatted in: the condition above.
SQLITE_TABLES = f"""
CREATE TABLE w3.newest (
    published_at TEXT NOT NULL, id INTEGER NOT NULL, title TEXT NOT NULL, slug TEXT NOT NULL,
    PRIMARY KEY (published_at, id)
) WITHOUT ROWID;
CREATE TABLE w3.by_title (
    title TEXT NOT NULL, id INTEGER NOT NULL, published_at TEXT NOT NULL, slug TEXT NOT NULL,
    PRIMARY KEY (title, id)
) WITHOUT ROWID;
CREATE TABLE w3.post (id INTEGER PRIMARY KEY, title TEXT NOT NULL, slug TEXT NOT NULL);
CREATE TABLE w3.tag_link (
    tag_id INTEGER NOT NULL, published_at TEXT NOT NULL, post_id INTEGER NOT NULL,
    PRIMARY KEY (tag_id, published_at, post_id)
) WITHOUT ROWID;
CREATE TABLE w3.author_link (
    author_id INTEGER NOT NULL, published_at TEXT NOT NULL, post_id INTEGER NOT NULL,
    title TEXT NOT NULL, slug TEXT NOT NULL,
    PRIMARY KEY (author_id, published_at, post_id)
) WITHOUT ROWID;
CREATE TABLE w3.tag (
    name TEXT NOT NULL, id INTEGER NOT NULL, slug TEXT NOT NULL, listed INTEGER NOT NULL,
    PRIMARY KEY (name, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX w3.tag_slug ON tag (slug);
CREATE TABLE w3.author (
    name TEXT NOT NULL, id INTEGER NOT NULL, slug TEXT NOT NULL, listed INTEGER NOT NULL,
    PRIMARY KEY (name, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX w3.author_slug ON author (slug);
CREATE TABLE w3.site (listed INTEGER NOT NULL);

INSERT INTO w3.newest SELECT published_at, id, title, slug FROM main.post WHERE {_LIVE};
INSERT INTO w3.by_title SELECT title, id, published_at, slug FROM main.post WHERE {_LIVE};
INSERT INTO w3.post SELECT id, title, slug FROM main.post WHERE {_LIVE};
INSERT INTO w3.tag_link
    SELECT pt.tag_id, p.published_at, p.id
    FROM main.post_tag pt JOIN main.post p ON p.id = pt.post_id WHERE {_live("p")};
INSERT INTO w3.author_link
    SELECT author_id, published_at, id, title, slug FROM main.post WHERE {_LIVE};
INSERT INTO w3.tag
    SELECT t.name, t.id, t.slug, (SELECT count(*) FROM w3.tag_link l WHERE l.tag_id = t.id)
    FROM main.tag t;
INSERT INTO w3.author
    SELECT a.name, a.id, a.slug,
           (SELECT count(*) FROM w3.author_link l WHERE l.author_id = a.id)
    FROM main.author a;
INSERT INTO w3.site SELECT count(*) FROM w3.newest;
"""  # noqa: S608

POSTGRES_TABLES = f"""
DROP SCHEMA IF EXISTS bench_w3_fast CASCADE;
CREATE SCHEMA bench_w3_fast;
CREATE TABLE bench_w3_fast.newest AS
    SELECT published_at, id, title, slug FROM public.post WHERE {_LIVE};
CREATE TABLE bench_w3_fast.by_title AS
    SELECT title, id, published_at, slug FROM public.post WHERE {_LIVE};
CREATE TABLE bench_w3_fast.post AS SELECT id, title, slug FROM public.post WHERE {_LIVE};
CREATE TABLE bench_w3_fast.tag_link AS
    SELECT pt.tag_id, p.published_at, p.id AS post_id
    FROM public.post_tag pt JOIN public.post p ON p.id = pt.post_id
    WHERE {_live("p")};
CREATE TABLE bench_w3_fast.author_link AS
    SELECT author_id, published_at, id AS post_id, title, slug FROM public.post WHERE {_LIVE};
CREATE TABLE bench_w3_fast.tag AS
    SELECT t.name, t.id, t.slug,
           (SELECT count(*) FROM bench_w3_fast.tag_link l WHERE l.tag_id = t.id) AS listed
    FROM public.tag t;
CREATE TABLE bench_w3_fast.author AS
    SELECT a.name, a.id, a.slug,
           (SELECT count(*) FROM bench_w3_fast.author_link l WHERE l.author_id = a.id) AS listed
    FROM public.author a;
CREATE TABLE bench_w3_fast.site AS SELECT count(*) AS listed FROM bench_w3_fast.newest;
ALTER TABLE bench_w3_fast.newest ADD PRIMARY KEY (published_at, id);
ALTER TABLE bench_w3_fast.by_title ADD PRIMARY KEY (title, id);
ALTER TABLE bench_w3_fast.post ADD PRIMARY KEY (id);
ALTER TABLE bench_w3_fast.tag_link ADD PRIMARY KEY (tag_id, published_at, post_id);
ALTER TABLE bench_w3_fast.author_link ADD PRIMARY KEY (author_id, published_at, post_id);
ALTER TABLE bench_w3_fast.tag ADD PRIMARY KEY (name, id);
ALTER TABLE bench_w3_fast.author ADD PRIMARY KEY (name, id);
CREATE UNIQUE INDEX ON bench_w3_fast.tag (slug);
CREATE UNIQUE INDEX ON bench_w3_fast.author (slug);
CLUSTER bench_w3_fast.newest USING newest_pkey;
CLUSTER bench_w3_fast.by_title USING by_title_pkey;
CLUSTER bench_w3_fast.tag_link USING tag_link_pkey;
CLUSTER bench_w3_fast.author_link USING author_link_pkey;
"""  # noqa: S608


def copy_sqlite(cms_file: Path, fast_file: Path) -> None:
    """Write the W3 baseline's schema into ``fast_file`` (replaced) from ``cms_file``."""
    fast_file.unlink(missing_ok=True)
    db = sqlite3.connect(cms_file)
    try:
        db.execute("ATTACH DATABASE ? AS w3", (str(fast_file),))
        db.executescript(SQLITE_TABLES)
        db.commit()
        db.execute("ANALYZE w3")
        db.commit()
    finally:
        db.close()


async def copy_postgres(database_url: str) -> None:
    """Write the W3 baseline's schema into ``bench_w3_fast`` of ``database_url`` (replaced)."""
    import asyncpg  # type: ignore[import-untyped]

    db = await asyncpg.connect(database_url)
    try:
        await db.execute(POSTGRES_TABLES)
        # VACUUM sets the visibility map, which index-only scans depend on.
        for table in ("newest", "by_title", "post", "tag_link", "author_link", "tag", "author"):
            await db.execute(f"VACUUM ANALYZE bench_w3_fast.{table}")
    finally:
        await db.close()
