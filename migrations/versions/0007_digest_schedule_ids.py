"""recap: each digest subscription remembers its schedule

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 20:15:00

Changing a member's digest used to look for its schedule among all of the guild's digest
schedules (10,000 rows in a 10,000-member guild, for every /digest on). The subscription now
keeps its schedule's id; existing ones are matched by the label the bot gave them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_id", AutoId, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_digest_subscriptions_schedule_id_schedules"),
            "schedules",
            ["schedule_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(
        "UPDATE digest_subscriptions SET schedule_id = ("
        "SELECT max(s.id) FROM schedules s WHERE s.guild_id = digest_subscriptions.guild_id "
        "AND s.kind = 'digest' "
        "AND s.label = 'digest for ' || CAST(digest_subscriptions.user_id AS TEXT))"
    )


def downgrade() -> None:
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_digest_subscriptions_schedule_id_schedules"), type_="foreignkey"
        )
        batch_op.drop_column("schedule_id")
