"""learning: the learning log, goals and reminders, paths; members' time zones and progress privacy

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = bot.models.base.UTCDateTime(timezone=True)


def _guild_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["guild_id"], ["guilds.id"], name=f"fk_{table}_guild_id_guilds", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "learning_entries",
        sa.Column("id", AutoId, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("logged_at", UTC, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("topic_id", AutoId, nullable=True),
        sa.Column("resource_id", AutoId, nullable=True),
        _guild_fk("learning_entries"),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name="fk_learning_entries_topic_id_topics",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name="fk_learning_entries_resource_id_library_resources",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_learning_entries"),
    )
    op.create_index(
        "ix_learning_entries_member_day",
        "learning_entries",
        ["guild_id", "user_id", "local_day"],
    )
    op.create_index(
        "ix_learning_entries_guild_logged", "learning_entries", ["guild_id", "logged_at"]
    )
    op.create_table(
        "learning_members",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("goal_minutes", sa.Integer(), nullable=False),
        sa.Column("remind", sa.Boolean(), nullable=False),
        sa.Column("remind_at", sa.String(length=5), nullable=False),
        sa.Column("schedule_id", AutoId, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        _guild_fk("learning_members"),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name="fk_learning_members_schedule_id_schedules",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name="pk_learning_members"),
    )
    op.create_table(
        "learning_reminders",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", UTC, nullable=False),
        _guild_fk("learning_reminders"),
        sa.PrimaryKeyConstraint("guild_id", "user_id", "local_day", name="pk_learning_reminders"),
    )
    op.create_table(
        "learning_path_steps",
        sa.Column("id", AutoId, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("topic_id", AutoId, nullable=False),
        sa.Column("resource_id", AutoId, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        _guild_fk("learning_path_steps"),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name="fk_learning_path_steps_topic_id_topics",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name="fk_learning_path_steps_resource_id_library_resources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_learning_path_steps"),
        sa.UniqueConstraint(
            "topic_id", "resource_id", name="uq_learning_path_steps_topic_id_resource_id"
        ),
    )
    op.create_table(
        "learning_path_followers",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("topic_id", AutoId, nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        _guild_fk("learning_path_followers"),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name="fk_learning_path_followers_topic_id_topics",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "user_id", "topic_id", name="pk_learning_path_followers"
        ),
    )
    op.create_table(
        "learning_path_done",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("resource_id", AutoId, nullable=False),
        sa.Column("done_at", UTC, nullable=False),
        _guild_fk("learning_path_done"),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["library_resources.id"],
            name="fk_learning_path_done_resource_id_library_resources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "user_id", "resource_id", name="pk_learning_path_done"),
    )
    op.create_table(
        "member_profiles",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        _guild_fk("member_profiles"),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name="pk_member_profiles"),
    )
    with op.batch_alter_table("member_privacy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("show_progress", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("member_privacy", schema=None) as batch_op:
        batch_op.drop_column("show_progress")
    op.drop_table("member_profiles")
    op.drop_table("learning_path_done")
    op.drop_table("learning_path_followers")
    op.drop_table("learning_path_steps")
    op.drop_table("learning_reminders")
    op.drop_table("learning_members")
    op.drop_index("ix_learning_entries_guild_logged", table_name="learning_entries")
    op.drop_index("ix_learning_entries_member_day", table_name="learning_entries")
    op.drop_table("learning_entries")
