"""library: tag counts kept by triggers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 20:10:00

`library_tag_counts` (how many live resources carry each tag) was moved by the service in the
same transaction as the tags: one more statement for every share with tags. Triggers on both
backends now keep it, for every writer (the bot, a bulk import, a hand edit), so it cannot drift:
adding or deleting a tag row of a live resource moves its count, and removing or restoring a
resource (its `deleted_at`) moves the counts of all its tags. The counts are rebuilt once here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REBUILD = [
    "DELETE FROM library_tag_counts",
    "INSERT INTO library_tag_counts (guild_id, tag, resources) "
    "SELECT t.guild_id, t.tag, count(*) FROM library_tags t "
    "JOIN library_resources r ON r.id = t.resource_id WHERE r.deleted_at IS NULL "
    "GROUP BY t.guild_id, t.tag",
]

SQLITE = [
    "CREATE TRIGGER library_tag_counts_ai AFTER INSERT ON library_tags "
    "WHEN (SELECT deleted_at FROM library_resources WHERE id = new.resource_id) IS NULL BEGIN "
    "INSERT INTO library_tag_counts (guild_id, tag, resources) VALUES (new.guild_id, new.tag, 1) "
    "ON CONFLICT (guild_id, tag) DO UPDATE SET resources = resources + 1; END",
    "CREATE TRIGGER library_tag_counts_ad AFTER DELETE ON library_tags "
    "WHEN (SELECT deleted_at FROM library_resources WHERE id = old.resource_id) IS NULL BEGIN "
    "UPDATE library_tag_counts SET resources = resources - 1 "
    "WHERE guild_id = old.guild_id AND tag = old.tag; END",
    "CREATE TRIGGER library_tag_counts_au AFTER UPDATE OF deleted_at ON library_resources "
    "WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL) BEGIN "
    "INSERT INTO library_tag_counts (guild_id, tag, resources) "
    "SELECT guild_id, tag, new.deleted_at IS NULL FROM library_tags "
    "WHERE resource_id = new.id "  # an upsert after a SELECT needs its WHERE (SQLite's parser)
    "ON CONFLICT (guild_id, tag) DO UPDATE SET resources = resources "
    "+ (CASE WHEN new.deleted_at IS NULL THEN 1 ELSE -1 END); END",
]
SQLITE_TRIGGERS = ("library_tag_counts_ai", "library_tag_counts_ad", "library_tag_counts_au")

POSTGRESQL = [
    """
    CREATE FUNCTION library_tag_counts_follow_tags() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO library_tag_counts (guild_id, tag, resources)
            SELECT NEW.guild_id, NEW.tag, 1 FROM library_resources
            WHERE id = NEW.resource_id AND deleted_at IS NULL
            ON CONFLICT (guild_id, tag)
            DO UPDATE SET resources = library_tag_counts.resources + 1;
            RETURN NEW;
        END IF;
        UPDATE library_tag_counts SET resources = resources - 1
        WHERE guild_id = OLD.guild_id AND tag = OLD.tag AND EXISTS (
            SELECT 1 FROM library_resources WHERE id = OLD.resource_id AND deleted_at IS NULL
        );
        RETURN OLD;
    END $$
    """,
    "CREATE TRIGGER library_tag_counts_follow_tags AFTER INSERT OR DELETE ON library_tags "
    "FOR EACH ROW EXECUTE FUNCTION library_tag_counts_follow_tags()",
    """
    CREATE FUNCTION library_tag_counts_follow_removal() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        delta integer := CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END;
    BEGIN
        INSERT INTO library_tag_counts (guild_id, tag, resources)
        SELECT guild_id, tag, greatest(delta, 0) FROM library_tags WHERE resource_id = NEW.id
        ON CONFLICT (guild_id, tag)
        DO UPDATE SET resources = library_tag_counts.resources + delta;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER library_tag_counts_follow_removal AFTER UPDATE OF deleted_at "
    "ON library_resources FOR EACH ROW "
    "WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)) "
    "EXECUTE FUNCTION library_tag_counts_follow_removal()",
]


def upgrade() -> None:
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    for statement in [*REBUILD, *statements]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    op.execute("DROP TRIGGER IF EXISTS library_tag_counts_follow_removal ON library_resources")
    op.execute("DROP TRIGGER IF EXISTS library_tag_counts_follow_tags ON library_tags")
    op.execute("DROP FUNCTION IF EXISTS library_tag_counts_follow_removal()")
    op.execute("DROP FUNCTION IF EXISTS library_tag_counts_follow_tags()")
