"""Full-text search: one index row per post, kept in sync by database triggers.

Triggers rather than application code, so that every writer (mutations, the importers, the
generator, a hand-run SQL statement) keeps the index right, inside its own transaction.

SQLite: ``post_search`` is an FTS5 table whose rowid is the post id, with the columns title,
excerpt, headings and body (the post's section headings and bodies, in reading order).
PostgreSQL: ``post_search`` holds one weighted ``tsvector`` per post (title A, headings B,
excerpt C, bodies D) under a GIN index. Row triggers mark the posts a write touches, and a
deferred trigger re-indexes each marked post once, as its transaction commits: atomically with
the write, and once per post however many sections a bulk insert sends.

The DDL is written out here, not imported, so that this migration never changes after the fact.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from cms.db.dialect_sql import run_per_dialect

SQLITE_SECTIONS = """
    (SELECT coalesce(group_concat(heading, char(10)), '') FROM
        (SELECT heading FROM section WHERE post_id = {post} AND heading IS NOT NULL
         ORDER BY position)),
    (SELECT coalesce(group_concat(body, char(10) || char(10)), '') FROM
        (SELECT body FROM section WHERE post_id = {post} ORDER BY position))
"""

SQLITE_FORWARD = f"""
CREATE VIRTUAL TABLE post_search USING fts5(
    title, excerpt, headings, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
--

INSERT INTO post_search (rowid, title, excerpt, headings, body)
    SELECT id, title, excerpt, {SQLITE_SECTIONS.format(post="post.id")} FROM post;
--

CREATE TRIGGER post_search_post_insert AFTER INSERT ON post BEGIN
    INSERT INTO post_search (rowid, title, excerpt, headings, body)
        VALUES (new.id, new.title, new.excerpt, {SQLITE_SECTIONS.format(post="new.id")});
END;
--

CREATE TRIGGER post_search_post_update AFTER UPDATE OF id, title, excerpt ON post BEGIN
    DELETE FROM post_search WHERE rowid = old.id;
    INSERT INTO post_search (rowid, title, excerpt, headings, body)
        VALUES (new.id, new.title, new.excerpt, {SQLITE_SECTIONS.format(post="new.id")});
END;
--

CREATE TRIGGER post_search_post_delete AFTER DELETE ON post BEGIN
    DELETE FROM post_search WHERE rowid = old.id;
END;
--

CREATE TRIGGER post_search_section_insert AFTER INSERT ON section BEGIN
    UPDATE post_search SET (headings, body) = ({SQLITE_SECTIONS.format(post="new.post_id")})
        WHERE rowid = new.post_id;
END;
--

CREATE TRIGGER post_search_section_update
AFTER UPDATE OF post_id, position, heading, body ON section BEGIN
    UPDATE post_search SET (headings, body) = ({SQLITE_SECTIONS.format(post="old.post_id")})
        WHERE rowid = old.post_id;
    UPDATE post_search SET (headings, body) = ({SQLITE_SECTIONS.format(post="new.post_id")})
        WHERE rowid = new.post_id AND new.post_id <> old.post_id;
END;
--

CREATE TRIGGER post_search_section_delete AFTER DELETE ON section BEGIN
    UPDATE post_search SET (headings, body) = ({SQLITE_SECTIONS.format(post="old.post_id")})
        WHERE rowid = old.post_id;
END;
--
"""

SQLITE_BACKWARD = """
DROP TRIGGER IF EXISTS post_search_section_delete;
--
DROP TRIGGER IF EXISTS post_search_section_update;
--
DROP TRIGGER IF EXISTS post_search_section_insert;
--
DROP TRIGGER IF EXISTS post_search_post_delete;
--
DROP TRIGGER IF EXISTS post_search_post_update;
--
DROP TRIGGER IF EXISTS post_search_post_insert;
--
DROP TABLE IF EXISTS post_search;
--
"""

# Bodies past this many characters are left out of the index: a tsvector holds at most 1 MB,
# and a post too large for it must still be saved. 200,000 characters is a long book chapter.
POSTGRES_FORWARD = """
CREATE TABLE post_search (
    post_id INTEGER PRIMARY KEY REFERENCES post (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);
--
CREATE INDEX post_search_document_idx ON post_search USING GIN (document);
--

CREATE FUNCTION post_search_refresh(ids INTEGER[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO post_search (post_id, document)
    SELECT p.id,
           setweight(to_tsvector('english', p.title), 'A')
           || setweight(to_tsvector('english', coalesce(s.headings, '')), 'B')
           || setweight(to_tsvector('english', p.excerpt), 'C')
           || setweight(to_tsvector('english', left(coalesce(s.bodies, ''), 200000)), 'D')
    FROM post p
    LEFT JOIN LATERAL (
        SELECT string_agg(heading, E'\\n' ORDER BY position) AS headings,
               string_agg(body, E'\\n\\n' ORDER BY position) AS bodies
        FROM section WHERE section.post_id = p.id
    ) s ON true
    WHERE p.id = ANY (ids)
    ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
$$;
--

-- Writes only mark posts as pending; each pending post is re-indexed once, when its
-- transaction commits. A bulk insert of a thousand sections (sent as a thousand statements by
-- executemany) thus costs one refresh per post, not one per section.
CREATE TABLE post_search_pending (post_id INTEGER PRIMARY KEY);
--

CREATE FUNCTION post_search_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'post' THEN
        INSERT INTO post_search_pending VALUES (NEW.id) ON CONFLICT DO NOTHING;
    ELSE
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO post_search_pending VALUES (OLD.post_id) ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO post_search_pending VALUES (NEW.post_id) ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
--

CREATE FUNCTION post_search_flush() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM post_search_refresh(ARRAY[NEW.post_id]);
    DELETE FROM post_search_pending WHERE post_id = NEW.post_id;
    RETURN NULL;
END;
$$;
--

CREATE TRIGGER post_search_post_insert AFTER INSERT ON post
    FOR EACH ROW EXECUTE FUNCTION post_search_mark();
--
-- Most updates only bump the version or the status: only new text needs a refresh.
CREATE TRIGGER post_search_post_update AFTER UPDATE OF title, excerpt ON post
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
                       OR OLD.excerpt IS DISTINCT FROM NEW.excerpt)
    EXECUTE FUNCTION post_search_mark();
--
CREATE TRIGGER post_search_section_change AFTER INSERT OR UPDATE OR DELETE ON section
    FOR EACH ROW EXECUTE FUNCTION post_search_mark();
--
CREATE CONSTRAINT TRIGGER post_search_flush AFTER INSERT ON post_search_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION post_search_flush();
--

SELECT post_search_refresh(ARRAY(SELECT id FROM post));
--
"""

POSTGRES_BACKWARD = """
DROP TABLE IF EXISTS post_search_pending;
--
DROP TRIGGER IF EXISTS post_search_section_change ON section;
--
DROP TRIGGER IF EXISTS post_search_post_update ON post;
--
DROP TRIGGER IF EXISTS post_search_post_insert ON post;
--
DROP FUNCTION IF EXISTS post_search_flush();
--
DROP FUNCTION IF EXISTS post_search_mark();
--
DROP FUNCTION IF EXISTS post_search_refresh(INTEGER[]);
--
DROP TABLE IF EXISTS post_search;
--
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0002_accounts_revisions')]

    initial = False

    operations = [
        ops.RunPython(
            run_per_dialect(SQLITE_FORWARD, POSTGRES_FORWARD, feature="full-text search and its triggers"),
            run_per_dialect(SQLITE_BACKWARD, POSTGRES_BACKWARD, feature="full-text search and its triggers"),
        ),
    ]
