"""recap: settings, posted recaps with item snapshots, sent messages, digests, member privacy

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-28 17:21:37.263256
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_deliveries",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("week_end", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("claimed_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_digest_deliveries_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "user_id", "week_end", name=op.f("pk_digest_deliveries")
        ),
    )
    op.create_table(
        "digest_subscriptions",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=32), nullable=True),
        sa.Column("notice_pending", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_digest_subscriptions_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_digest_subscriptions")),
    )
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_subscriptions_due", ["enabled", "weekday", "local_time"], unique=False
        )

    op.create_table(
        "member_privacy",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hide_from_contributors", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_member_privacy_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_member_privacy")),
    )
    op.create_table(
        "recap_settings",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_recap_settings_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_recap_settings")),
    )
    op.create_table(
        "recaps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("slot_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_start", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guilds.id"], name=op.f("fk_recaps_guild_id_guilds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recaps")),
        sa.UniqueConstraint(
            "guild_id", "trigger", "slot_at", name=op.f("uq_recaps_guild_id_trigger_slot_at")
        ),
    )
    with op.batch_alter_table("recaps", schema=None) as batch_op:
        batch_op.create_index("ix_recaps_guild_window", ["guild_id", "window_end"], unique=False)

    op.create_table(
        "recap_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recap_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("topic_name", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("sharers", sa.Integer(), nullable=False),
        sa.Column("engagement", sa.Integer(), nullable=False),
        sa.Column("first_sharer_id", sa.BigInteger(), nullable=False),
        sa.Column("first_sharer_name", sa.String(length=100), nullable=False),
        sa.Column("first_share_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("first_share_message_id", sa.BigInteger(), nullable=True),
        sa.Column("first_shared_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_recap_items_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recap_id"],
            ["recaps.id"],
            name=op.f("fk_recap_items_recap_id_recaps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recap_items")),
    )
    with op.batch_alter_table("recap_items", schema=None) as batch_op:
        batch_op.create_index("ix_recap_items_recap", ["recap_id", "position"], unique=False)

    op.create_table(
        "recap_messages",
        sa.Column("recap_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
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


def downgrade() -> None:
    op.drop_table("recap_messages")
    with op.batch_alter_table("recap_items", schema=None) as batch_op:
        batch_op.drop_index("ix_recap_items_recap")

    op.drop_table("recap_items")
    with op.batch_alter_table("recaps", schema=None) as batch_op:
        batch_op.drop_index("ix_recaps_guild_window")

    op.drop_table("recaps")
    op.drop_table("recap_settings")
    op.drop_table("member_privacy")
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_subscriptions_due")

    op.drop_table("digest_subscriptions")
    op.drop_table("digest_deliveries")
