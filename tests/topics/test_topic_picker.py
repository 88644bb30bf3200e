"""The picker's message stays within Discord's component limits however many topics exist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from bot.topics.service import TopicInfo, TopicService
from cogs.topics._membership import TopicMembership
from cogs.topics._picker import PickerItems, picker_embed


def topic(i: int) -> TopicInfo:
    return TopicInfo(
        id=i,
        guild_id=1,
        name=f"Topic {i:03d} " + "x" * 90,
        description="d" * 300,
        emoji="📚" if i % 2 else None,
        channel_id=1000 + i,
        role_id=2000 + i,
        default_tags=(),
        kind="text",
        state="active",
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
        follower_count=i,
        archived=False,
        broken_reason=None,
    )


@pytest.fixture
def items() -> PickerItems:
    service = cast(TopicService, None)
    return PickerItems(service, TopicMembership(service))


def components(view: Any) -> list[dict[str, Any]]:
    return [c for row in view.to_components() for c in row["components"]]


@pytest.mark.parametrize("count", [0, 1, 25, 26, 100, 101, 490])
async def test_picker_message_fits_discord(items: PickerItems, count: int) -> None:
    topics = [topic(i) for i in range(count)]
    view = items.message_view(topics)
    rows = view.to_components()
    assert len(rows) <= 5
    parts = components(view)
    selects = [c for c in parts if c["type"] == 3]
    assert len(selects) == min(4, -(-count // 25))
    for select in selects:
        assert 1 <= len(select["options"]) <= 25
        assert select["max_values"] == len(select["options"])
        assert all(len(o["label"]) <= 100 for o in select["options"])
        assert all(len(o.get("description") or "") <= 100 for o in select["options"])
        assert len(select.get("placeholder") or "") <= 150
    ids = [c["custom_id"] for c in parts]
    assert len(ids) == len(set(ids))
    assert "topics:picker:mine" in ids
    assert ("topics:browse:0" in ids) == (count > 100)
    embed = picker_embed(topics).to_dict()
    assert len(embed.get("description", "")) <= 4096


async def test_browse_pages_cover_every_topic(items: PickerItems) -> None:
    topics = [topic(i) for i in range(130)]
    seen: list[str] = []
    for page in range(6):
        parts = components(items.browse_view(topics, page))
        select = next(c for c in parts if c["type"] == 3)
        assert select["custom_id"] == f"topics:picker:{page}"
        seen += [o["value"] for o in select["options"]]
        buttons = {c["custom_id"] for c in parts if c["type"] == 2}
        assert ("topics:browse:" + str(page + 1) in buttons) == (page < 5)
    assert seen == [str(i) for i in range(130)]
