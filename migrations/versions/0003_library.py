"""library: resources, shares, tags, votes, saves, capture channels, full-text search

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28 17:40:00

The search index is written by hand: an FTS5 external-content table kept in sync by triggers on
SQLite (so every writer, the bot or a bulk import, keeps it right in the same transaction), and a
GIN index on the `search_vector` tsvector column on PostgreSQL (the service fills that column).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bot.models.base


revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE library_search USING fts5("
    "guild_id UNINDEXED, search_text, content='library_resources', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER library_search_ai AFTER INSERT ON library_resources BEGIN "
    "INSERT INTO library_search(rowid, guild_id, search_text) "
    "VALUES (new.id, new.guild_id, new.search_text); END",
    "CREATE TRIGGER library_search_ad AFTER DELETE ON library_resources BEGIN "
    "INSERT INTO library_search(library_search, rowid, guild_id, search_text) "
    "VALUES ('delete', old.id, old.guild_id, old.search_text); END",
    "CREATE TRIGGER library_search_au AFTER UPDATE OF search_text ON library_resources BEGIN "
    "INSERT INTO library_search(library_search, rowid, guild_id, search_text) "
    "VALUES ('delete', old.id, old.guild_id, old.search_text); "
    "INSERT INTO library_search(rowid, guild_id, search_text) "
    "VALUES (new.id, new.guild_id, new.search_text); END",
]


def upgrade() -> None:
    op.create_table(
        "library_resources",
        sa.Column("id", AutoId, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("canonical_url", sa.String(length=2048), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("title_source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("first_sharer_id", sa.BigInteger(), nullable=False),
        sa.Column("first_shared_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "search_vector",
            sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
            nullable=True,
        ),
        sa.Column("deleted_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_library_resources_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_resources")),
        sa.UniqueConstraint(
            "guild_id", "canonical_url", name=op.f("uq_library_resources_guild_id_canonical_url")
        ),
    )
    with op.batch_alter_table("library_resources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_resources_guild_shared", ["guild_id", "first_shared_at"], unique=False
        )
        batch_op.create_index(
            "ix_library_resources_search_vector",
            ["search_vector"],
            unique=False,
            postgresql_using="gin",
        )

    op.create_table(
        "library_capture_channels",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("default_tags", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_library_capture_channels_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "channel_id", name=op.f("pk_library_capture_channels")),
    )

    op.create_table(
        "library_shares",
        sa.Column("id", AutoId, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("resource_id", AutoId, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("member_is_bot", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("shared_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_library_shares_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name=op.f("fk_library_shares_resource_id_library_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_shares")),
        sa.UniqueConstraint(
            "resource_id", "message_id", name=op.f("uq_library_shares_resource_id_message_id")
        ),
    )
    with op.batch_alter_table("library_shares", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_shares_guild_shared",
            ["guild_id", "shared_at", "member_is_bot", "resource_id", "member_id", "channel_id"],
        )
        batch_op.create_index("ix_library_shares_resource_shared", ["resource_id", "shared_at"])
        batch_op.create_index("ix_library_shares_guild_message", ["guild_id", "message_id"])
        batch_op.create_index(
            "ix_library_shares_guild_member", ["guild_id", "member_id", "shared_at"]
        )

    op.create_table(
        "library_tags",
        sa.Column("resource_id", AutoId, nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_library_tags_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name=op.f("fk_library_tags_resource_id_library_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "tag", name=op.f("pk_library_tags")),
    )
    with op.batch_alter_table("library_tags", schema=None) as batch_op:
        batch_op.create_index("ix_library_tags_guild_tag", ["guild_id", "tag"])

    op.create_table(
        "library_tag_counts",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guilds.id"],
            name=op.f("fk_library_tag_counts_guild_id_guilds"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "tag", name=op.f("pk_library_tag_counts")),
    )

    op.create_table(
        "library_votes",
        sa.Column("id", AutoId, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("resource_id", AutoId, nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("voted_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_library_votes_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name=op.f("fk_library_votes_resource_id_library_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_votes")),
        sa.UniqueConstraint(
            "resource_id",
            "member_id",
            "emoji",
            name=op.f("uq_library_votes_resource_id_member_id_emoji"),
        ),
    )
    with op.batch_alter_table("library_votes", schema=None) as batch_op:
        batch_op.create_index("ix_library_votes_guild_voted", ["guild_id", "voted_at"])

    op.create_table(
        "library_saves",
        sa.Column("resource_id", AutoId, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("saved_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_library_saves_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name=op.f("fk_library_saves_resource_id_library_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "member_id", name=op.f("pk_library_saves")),
    )
    with op.batch_alter_table("library_saves", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_saves_guild_member", ["guild_id", "member_id", "saved_at"]
        )
        batch_op.create_index("ix_library_saves_guild_saved", ["guild_id", "saved_at"])

    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("library_search_ai", "library_search_ad", "library_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS library_search")
    op.drop_table("library_saves")
    op.drop_table("library_votes")
    op.drop_table("library_tag_counts")
    op.drop_table("library_tags")
    op.drop_table("library_shares")
    op.drop_table("library_capture_channels")
    op.drop_table("library_resources")
