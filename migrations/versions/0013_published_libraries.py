"""site: which guilds publish their library on the web, under which slug

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:00:00

`/mod library publish on` gives the guild an unguessable slug for its pages and feeds; the row
stays when it is unpublished, so publishing again keeps the address readers already follow.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_libraries",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("include_names", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guilds.id"],
            name=op.f("fk_published_libraries_guild_id_guilds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_published_libraries")),
        sa.UniqueConstraint("slug", name=op.f("uq_published_libraries_slug")),
    )


def downgrade() -> None:
    op.drop_table("published_libraries")
