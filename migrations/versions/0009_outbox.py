"""scheduling: the outbox of posts, exactly once across crashes (recap_messages folded in)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00

Each post a slot makes is written to `outbox` before it is sent and completed with Discord's id
right after, so a run resumed after its process died neither loses nor repeats a post. The
recap already kept its sent parts in `recap_messages`; that was the same mechanism for one
feature, and its rows become the outbox's "recap:<id>" scope.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("part", sa.String(length=40), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=25), nullable=False),
        sa.Column("memo", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_outbox_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scope", "part", name=op.f("pk_outbox")),
    )
    op.execute(
        "INSERT INTO outbox (scope, part, guild_id, kind, channel_id, fingerprint, nonce, memo, "
        "message_id, started_at, sent_at) "
        "SELECT 'recap:' || CAST(recap_id AS VARCHAR), CAST(part AS VARCHAR), guild_id, "
        "'message', channel_id, '', 'recap:' || CAST(recap_id AS VARCHAR) || '/' || "
        "CAST(part AS VARCHAR), '{}', message_id, posted_at, posted_at FROM recap_messages"
    )
    op.drop_table("recap_messages")


def downgrade() -> None:
    op.create_table(
        "recap_messages",
        sa.Column("recap_id", AutoId, nullable=False),
        sa.Column("part", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_recap_messages_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recap_id"],
            ["recaps.id"],
            name=op.f("fk_recap_messages_recap_id_recaps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recap_id", "part", name=op.f("pk_recap_messages")),
    )
    op.execute(
        "INSERT INTO recap_messages (recap_id, part, guild_id, channel_id, message_id, posted_at) "
        "SELECT CAST(substr(scope, 7) AS INTEGER), CAST(part AS INTEGER), guild_id, channel_id, "
        "message_id, sent_at FROM outbox WHERE scope LIKE 'recap:%' AND message_id IS NOT NULL "
        "AND CAST(substr(scope, 7) AS INTEGER) IN (SELECT id FROM recaps)"
    )
    op.drop_table("outbox")
