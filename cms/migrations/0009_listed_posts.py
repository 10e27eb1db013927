"""Post lists and counts in O(page): a ``listed`` flag, its copies on the links, and counters.

- ``post.listed`` is a generated column: true when the post is published or scheduled, has a
  ``published_at`` and is not in the trash. An anonymous reader sees exactly the listed posts
  whose ``published_at`` has passed. Generated rather than kept by triggers, so that no writer
  can store a stale value (Tortoise's ``save()`` writes every column it knows; it does not know
  this one). SQLite adds it VIRTUAL (ALTER TABLE cannot add a STORED column) and indexes it;
  PostgreSQL STORED.
- ``post_tag.listed`` and ``post_tag.published_at`` copy their post's values, kept by triggers,
  so that a tag's page is one ordered range of ``post_tag_listed_idx``.
- ``post_listing_count`` holds, per scope (``site`` with parent 0, ``tag``, ``author``), the
  number of listed posts, kept by triggers in the writer's transaction. A live count is that
  number minus the listed posts still dated in the future (an index range over the few
  scheduled ones). A post with two tags counts once in each tag.

Triggers rather than application code, so that every writer (mutations, the scheduler, the
trash, ``cms import``, ``cms generate``, a hand-run SQL statement) keeps them right. The DDL is
written out here, not imported, so that this migration never changes after the fact.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from cms.db.dialect_sql import run_per_dialect

# Shared by both dialects (both accept this upsert).
ADD = (
    "ON CONFLICT (scope, parent_id) DO UPDATE "
    "SET listed = post_listing_count.listed + excluded.listed"
)
LISTED = "status IN ('PUBLISHED', 'SCHEDULED') AND deleted_at IS NULL AND published_at IS NOT NULL"

INDEXES = """
CREATE INDEX post_listed_published_idx ON post (listed, published_at, id);
--
CREATE INDEX post_listed_title_idx ON post (listed, title, id);
--
CREATE INDEX post_listed_updated_idx ON post (listed, updated_at, id);
--
CREATE INDEX post_author_listed_idx ON post (author_id, listed, published_at, id);
--
CREATE INDEX post_tag_listed_idx ON post_tag (tag_id, listed, published_at, post_id);
--
"""

BACKFILL = """
CREATE TABLE post_listing_count (
    scope VARCHAR(8) NOT NULL,
    parent_id INTEGER NOT NULL,
    listed INTEGER NOT NULL,
    PRIMARY KEY (scope, parent_id)
);
--
UPDATE post_tag SET listed = post.listed, published_at = post.published_at
    FROM post WHERE post.id = post_tag.post_id;
--
INSERT INTO post_listing_count (scope, parent_id, listed)
    SELECT 'site', 0, count(*) FROM post WHERE listed;
--
INSERT INTO post_listing_count (scope, parent_id, listed)
    SELECT 'author', author_id, count(*) FROM post WHERE listed GROUP BY author_id;
--
INSERT INTO post_listing_count (scope, parent_id, listed)
    SELECT 'tag', tag_id, count(*) FROM post_tag WHERE listed GROUP BY tag_id;
--
"""

SQLITE_FORWARD = f"""
ALTER TABLE post ADD COLUMN listed INTEGER GENERATED ALWAYS AS ({LISTED}) VIRTUAL;
--
ALTER TABLE post_tag ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
--
ALTER TABLE post_tag ADD COLUMN published_at TIMESTAMP;
--
{BACKFILL}
{INDEXES}
CREATE TRIGGER post_listing_insert AFTER INSERT ON post WHEN new.listed BEGIN
    INSERT INTO post_listing_count (scope, parent_id, listed)
        VALUES ('site', 0, 1), ('author', new.author_id, 1) {ADD};
END;
--
CREATE TRIGGER post_listing_update
AFTER UPDATE OF status, deleted_at, published_at, author_id ON post
WHEN old.listed IS NOT new.listed OR old.author_id IS NOT new.author_id
     OR old.published_at IS NOT new.published_at BEGIN
    INSERT INTO post_listing_count (scope, parent_id, listed)
        VALUES ('site', 0, new.listed - old.listed),
               ('author', old.author_id, -old.listed),
               ('author', new.author_id, new.listed) {ADD};
    -- post_tag_listing_update moves each tag's count along with the copies.
    UPDATE post_tag SET listed = new.listed, published_at = new.published_at
        WHERE post_id = new.id;
END;
--
CREATE TRIGGER post_listing_delete AFTER DELETE ON post WHEN old.listed BEGIN
    INSERT INTO post_listing_count (scope, parent_id, listed)
        VALUES ('site', 0, -1), ('author', old.author_id, -1) {ADD};
END;
--
-- A new or moved link copies its post's values; post_tag_listing_update then counts it.
CREATE TRIGGER post_tag_copy_insert AFTER INSERT ON post_tag BEGIN
    UPDATE post_tag SET (listed, published_at) =
        (SELECT listed, published_at FROM post WHERE id = new.post_id)
        WHERE id = new.id;
END;
--
CREATE TRIGGER post_tag_copy_move AFTER UPDATE OF post_id ON post_tag BEGIN
    UPDATE post_tag SET (listed, published_at) =
        (SELECT listed, published_at FROM post WHERE id = new.post_id)
        WHERE id = new.id;
END;
--
CREATE TRIGGER post_tag_listing_update AFTER UPDATE OF tag_id, listed ON post_tag
WHEN old.listed OR new.listed BEGIN
    INSERT INTO post_listing_count (scope, parent_id, listed)
        VALUES ('tag', old.tag_id, -old.listed), ('tag', new.tag_id, new.listed) {ADD};
END;
--
CREATE TRIGGER post_tag_listing_delete AFTER DELETE ON post_tag WHEN old.listed BEGIN
    INSERT INTO post_listing_count (scope, parent_id, listed) VALUES ('tag', old.tag_id, -1) {ADD};
END;
--
"""

SQLITE_BACKWARD = """
DROP TRIGGER IF EXISTS post_tag_listing_delete;
--
DROP TRIGGER IF EXISTS post_tag_listing_update;
--
DROP TRIGGER IF EXISTS post_tag_copy_move;
--
DROP TRIGGER IF EXISTS post_tag_copy_insert;
--
DROP TRIGGER IF EXISTS post_listing_delete;
--
DROP TRIGGER IF EXISTS post_listing_update;
--
DROP TRIGGER IF EXISTS post_listing_insert;
--
DROP TABLE IF EXISTS post_listing_count;
--
DROP INDEX IF EXISTS post_tag_listed_idx;
--
DROP INDEX IF EXISTS post_author_listed_idx;
--
DROP INDEX IF EXISTS post_listed_updated_idx;
--
DROP INDEX IF EXISTS post_listed_title_idx;
--
DROP INDEX IF EXISTS post_listed_published_idx;
--
ALTER TABLE post_tag DROP COLUMN published_at;
--
ALTER TABLE post_tag DROP COLUMN listed;
--
ALTER TABLE post DROP COLUMN listed;
--
"""

POSTGRES_FORWARD = f"""
ALTER TABLE post ADD COLUMN listed BOOLEAN GENERATED ALWAYS AS ({LISTED}) STORED;
--
ALTER TABLE post_tag ADD COLUMN listed BOOLEAN NOT NULL DEFAULT false;
--
ALTER TABLE post_tag ADD COLUMN published_at TIMESTAMPTZ;
--
{BACKFILL}
{INDEXES}
CREATE FUNCTION post_listing_add(kind TEXT, parent INTEGER, delta INTEGER)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO post_listing_count (scope, parent_id, listed) VALUES (kind, parent, delta) {ADD};
$$;
--
CREATE FUNCTION post_listing_count_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.listed THEN
        PERFORM post_listing_add('site', 0, -1);
        PERFORM post_listing_add('author', OLD.author_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.listed THEN
        PERFORM post_listing_add('site', 0, 1);
        PERFORM post_listing_add('author', NEW.author_id, 1);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- post_tag_listing_count moves each tag's count along with the copies.
        UPDATE post_tag SET listed = NEW.listed, published_at = NEW.published_at
            WHERE post_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;
--
CREATE TRIGGER post_listing_insert AFTER INSERT ON post
    FOR EACH ROW WHEN (NEW.listed) EXECUTE FUNCTION post_listing_count_post();
--
CREATE TRIGGER post_listing_update AFTER UPDATE OF status, deleted_at, published_at, author_id
    ON post FOR EACH ROW
    WHEN (OLD.listed IS DISTINCT FROM NEW.listed OR OLD.author_id IS DISTINCT FROM NEW.author_id
          OR OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION post_listing_count_post();
--
CREATE TRIGGER post_listing_delete AFTER DELETE ON post
    FOR EACH ROW WHEN (OLD.listed) EXECUTE FUNCTION post_listing_count_post();
--
CREATE FUNCTION post_tag_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT listed, published_at INTO NEW.listed, NEW.published_at
        FROM post WHERE id = NEW.post_id;
    -- A link to a missing post fails on its foreign key, not on this column.
    NEW.listed := coalesce(NEW.listed, false);
    RETURN NEW;
END;
$$;
--
CREATE TRIGGER post_tag_copy BEFORE INSERT OR UPDATE OF post_id ON post_tag
    FOR EACH ROW EXECUTE FUNCTION post_tag_copy();
--
CREATE FUNCTION post_listing_count_tag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.listed THEN
        PERFORM post_listing_add('tag', OLD.tag_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.listed THEN
        PERFORM post_listing_add('tag', NEW.tag_id, 1);
    END IF;
    RETURN NULL;
END;
$$;
--
CREATE TRIGGER post_tag_listing_count AFTER INSERT OR DELETE OR UPDATE OF tag_id, listed, post_id
    ON post_tag FOR EACH ROW EXECUTE FUNCTION post_listing_count_tag();
--
-- Both tables were rewritten: without statistics on the new columns until autovacuum comes
-- by, the planner misjudges the new indexes.
ANALYZE post;
--
ANALYZE post_tag;
--
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS post_tag_listing_count ON post_tag;
--
DROP TRIGGER IF EXISTS post_tag_copy ON post_tag;
--
DROP TRIGGER IF EXISTS post_listing_delete ON post;
--
DROP TRIGGER IF EXISTS post_listing_update ON post;
--
DROP TRIGGER IF EXISTS post_listing_insert ON post;
--
DROP FUNCTION IF EXISTS post_listing_count_tag();
--
DROP FUNCTION IF EXISTS post_tag_copy();
--
DROP FUNCTION IF EXISTS post_listing_count_post();
--
DROP FUNCTION IF EXISTS post_listing_add(TEXT, INTEGER, INTEGER);
--
DROP TABLE IF EXISTS post_listing_count;
--
DROP INDEX IF EXISTS post_tag_listed_idx;
--
DROP INDEX IF EXISTS post_author_listed_idx;
--
DROP INDEX IF EXISTS post_listed_updated_idx;
--
DROP INDEX IF EXISTS post_listed_title_idx;
--
DROP INDEX IF EXISTS post_listed_published_idx;
--
ALTER TABLE post_tag DROP COLUMN IF EXISTS published_at;
--
ALTER TABLE post_tag DROP COLUMN IF EXISTS listed;
--
ALTER TABLE post DROP COLUMN IF EXISTS listed;
--
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0008_unique_tag_names')]

    initial = False

    operations = [
        # Served by post_author_listed_idx, which leads with the same column.
        ops.RemoveIndex(model_name="Post", name="post_author_published_idx"),
        ops.RunPython(
            run_per_dialect(SQLITE_FORWARD, POSTGRES_FORWARD, feature="listed posts and their counters"),
            run_per_dialect(SQLITE_BACKWARD, POSTGRES_BACKWARD, feature="listed posts and their counters"),
        ),
    ]
