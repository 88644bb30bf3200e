"""library: http and https links are one resource; stored links are the clean form

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:40:00

A resource's key (`canonical_url`) now reads http as https, and its shown link (`url`) is the
clean form (no tracking parameters), https when any share was https. Resources that only
differed by scheme are merged into the oldest: every share, vote, save and tag is kept (a vote or
save the member had made on both counts once). Nobody is told: the library just has one card
fewer. The merge cannot be undone; downgrading keeps the merged rows.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.errors import UserFacingError
from bot.library.urls import canonical_url, resource_key

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

resources = sa.table(
    "library_resources",
    sa.column("id"),
    sa.column("guild_id"),
    sa.column("url"),
    sa.column("canonical_url"),
    sa.column("title"),
    sa.column("note"),
    sa.column("first_shared_at"),
    sa.column("deleted_at"),
    sa.column("deleted_by"),
)


def _clean(url: str, key: str) -> tuple[str, str]:
    """The clean form and key of a stored link (a legacy link that no longer parses keeps its)."""
    try:
        clean = canonical_url(url)
    except UserFacingError:
        return url, resource_key(key)
    return clean, resource_key(clean)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(resources).order_by(
            resources.c.guild_id, resources.c.first_shared_at, resources.c.id
        )
    ).all()
    groups: dict[tuple[int, str], list[tuple[Any, str]]] = {}
    for row in rows:
        clean, key = _clean(row.url, row.canonical_url)
        groups.setdefault((row.guild_id, key), []).append((row, clean))
    for (_guild_id, key), members in groups.items():
        survivor, survivor_clean = members[0]
        for duplicate, _clean_url in members[1:]:
            _merge(bind, survivor.id, duplicate.id)
        best = next((c for _, c in members if c.startswith("https://")), survivor_clean)
        changes: dict[str, Any] = {"url": best, "canonical_url": key}
        live = [row for row, _ in members if row.deleted_at is None]
        if survivor.deleted_at is not None and live:
            changes |= {"deleted_at": None, "deleted_by": None}
        if survivor.title is None:
            changes["title"] = next((r.title for r, _ in members if r.title), None)
        if survivor.note is None:
            changes["note"] = next((r.note for r, _ in members if r.note), None)
        if any(survivor._mapping[name] != value for name, value in changes.items()):
            bind.execute(resources.update().where(resources.c.id == survivor.id).values(changes))


def _merge(bind: sa.Connection, survivor: int, duplicate: int) -> None:
    """Move everything of `duplicate` onto `survivor`, then delete it (its search row goes too)."""
    params = {"survivor": survivor, "duplicate": duplicate}
    statements = [
        # The same message captured both forms: one share is enough.
        "DELETE FROM library_shares WHERE resource_id = :duplicate AND message_id IN "
        "(SELECT message_id FROM library_shares WHERE resource_id = :survivor "
        "AND message_id IS NOT NULL)",
        "UPDATE library_shares SET resource_id = :survivor WHERE resource_id = :duplicate",
        "DELETE FROM library_votes WHERE resource_id = :duplicate AND EXISTS (SELECT 1 FROM "
        "library_votes AS kept WHERE kept.resource_id = :survivor "
        "AND kept.member_id = library_votes.member_id AND kept.emoji = library_votes.emoji)",
        "UPDATE library_votes SET resource_id = :survivor WHERE resource_id = :duplicate",
        "DELETE FROM library_saves WHERE resource_id = :duplicate AND member_id IN "
        "(SELECT member_id FROM library_saves WHERE resource_id = :survivor)",
        "UPDATE library_saves SET resource_id = :survivor WHERE resource_id = :duplicate",
        # Tags: insert the missing ones and delete the duplicate's, so the counts' triggers
        # (migration 0006) see each change.
        "INSERT INTO library_tags (resource_id, tag, guild_id) SELECT :survivor, tag, guild_id "
        "FROM library_tags WHERE resource_id = :duplicate AND tag NOT IN "
        "(SELECT tag FROM library_tags WHERE resource_id = :survivor)",
        "DELETE FROM library_tags WHERE resource_id = :duplicate",
        "DELETE FROM library_resources WHERE id = :duplicate",
    ]
    for statement in statements:
        bind.execute(sa.text(statement), params)


def downgrade() -> None:
    """Keys go back to their scheme; merged resources stay merged (nothing to split them by)."""
    op.execute(
        "UPDATE library_resources SET canonical_url = 'http://' || substr(canonical_url, 9) "
        "WHERE url LIKE 'http://%' AND canonical_url LIKE 'https://%'"
    )
