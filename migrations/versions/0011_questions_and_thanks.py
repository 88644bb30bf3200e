"""questions: questions and their threads, thanks, the contribution ledger, the helper role

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:41:00

Shares, votes and saves stay in the library's tables and chat-hour answers in the chats' (they
are already one row per event); `contributions` holds accepted answers and thanks received.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contributions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("ref_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_contributions_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.create_index("ix_contributions_guild_at", ["guild_id", "at"], unique=False)
        batch_op.create_index(
            "ix_contributions_guild_member_at", ["guild_id", "member_id", "at"], unique=False
        )

    op.create_table(
        "question_settings",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("helper_role_id", sa.BigInteger(), nullable=True),
        sa.Column("helper_threshold", sa.Integer(), nullable=False),
        sa.Column(
            "refresh_schedule_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_question_settings_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_question_settings")),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("asker_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("details", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_reply_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nudged_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("asked_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("solved_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("solved_by", sa.BigInteger(), nullable=True),
        sa.Column("solver_id", sa.BigInteger(), nullable=True),
        sa.Column("solution_message_id", sa.BigInteger(), nullable=True),
        sa.Column("solution_excerpt", sa.String(length=500), nullable=False),
        sa.Column("closed_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "check_schedule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_questions_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("guild_id", "thread_id", name=op.f("uq_questions_guild_id_thread_id")),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_questions_guild_state_created", ["guild_id", "state", "created_at"], unique=False
        )

    op.create_table(
        "thanks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("giver_id", sa.BigInteger(), nullable=False),
        sa.Column("receiver_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("given_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guilds.id"], name=op.f("fk_thanks_guild_id_guilds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks")),
        sa.UniqueConstraint(
            "guild_id",
            "giver_id",
            "message_id",
            name=op.f("uq_thanks_guild_id_giver_id_message_id"),
        ),
    )
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_thanks_guild_giver_given", ["guild_id", "giver_id", "given_at"], unique=False
        )
        batch_op.create_index("ix_thanks_guild_receiver", ["guild_id", "receiver_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.drop_index("ix_thanks_guild_receiver")
        batch_op.drop_index("ix_thanks_guild_giver_given")

    op.drop_table("thanks")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index("ix_questions_guild_state_created")

    op.drop_table("questions")
    op.drop_table("question_settings")
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_guild_member_at")
        batch_op.drop_index("ix_contributions_guild_at")

    op.drop_table("contributions")
