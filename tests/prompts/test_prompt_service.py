"""The prompt bank: validation, import, rotation (least used, topic first), suggestions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.prompts.service import PromptService

GUILD, OTHER, MOD = 2001, 2002, 7
TOPIC, OTHER_TOPIC = 11, 12


async def test_rotation_never_repeats_until_the_bank_is_exhausted_topic_first(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = PromptService(sessions, clock)
    general = [await service.add(GUILD, "PLN", MOD, f"General {n}") for n in range(2)]
    topical = [await service.add(GUILD, "PLN", MOD, f"Topic {n}", topic_id=TOPIC) for n in range(2)]
    await service.add(GUILD, "PLN", MOD, "Another topic's", topic_id=OTHER_TOPIC)
    picked = []
    for _ in range(8):
        clock.advance(timedelta(hours=1))
        prompt = await service.take_next(GUILD, TOPIC)
        assert prompt is not None
        picked.append(prompt.id)
    first_round = [p.id for p in topical] + [p.id for p in general]
    assert picked == first_round + first_round
    # General schedules never take another topic's prompts.
    clock.advance(timedelta(hours=1))
    assert (await service.take_next(GUILD, None)).id in {p.id for p in general}  # type: ignore[union-attr]


async def test_a_new_prompt_goes_before_ones_already_used(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = PromptService(sessions, clock)
    await service.add(GUILD, "PLN", MOD, "Old")
    await service.take_next(GUILD, None)
    fresh = await service.add(GUILD, "PLN", MOD, "Fresh")
    assert (await service.take_next(GUILD, None)).id == fresh.id  # type: ignore[union-attr]


async def test_an_empty_bank_gives_nothing(sessions: SessionFactory, clock: FakeClock) -> None:
    service = PromptService(sessions, clock)
    assert await service.take_next(GUILD, TOPIC) is None
    await service.add(OTHER, "Other", MOD, "Not yours")
    assert await service.take_next(GUILD, None) is None


@pytest.mark.parametrize(
    ("text", "message"), [("   ", "needs some text"), ("x" * 1001, "at most 1000")]
)
async def test_bad_prompts_are_refused_and_nothing_saved(
    sessions: SessionFactory, clock: FakeClock, text: str, message: str
) -> None:
    service = PromptService(sessions, clock)
    with pytest.raises(UserFacingError, match=message):
        await service.add(GUILD, "PLN", MOD, text)
    assert await service.list_bank(GUILD) == []


async def test_duplicates_are_refused(sessions: SessionFactory, clock: FakeClock) -> None:
    service = PromptService(sessions, clock)
    await service.add(GUILD, "PLN", MOD, "What did you try this week?")
    with pytest.raises(UserFacingError, match="already"):
        await service.add(GUILD, "PLN", MOD, "what did you try this week?")


async def test_import_one_prompt_per_line_skipping_blanks_duplicates_and_long_lines(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = PromptService(sessions, clock)
    await service.add(GUILD, "PLN", MOD, "Existing")
    content = "First\n\nSecond\nexisting\nFirst\n" + "y" * 1001 + "\r\nThird\n"
    result = await service.import_lines(GUILD, "PLN", MOD, content)
    assert (result.added, result.duplicates, result.too_long, result.blank) == (3, 2, 1, 1)
    assert [p.text for p in await service.list_bank(GUILD)] == [
        "Existing",
        "First",
        "Second",
        "Third",
    ]


async def test_remove_is_per_guild(sessions: SessionFactory, clock: FakeClock) -> None:
    service = PromptService(sessions, clock)
    info = await service.add(GUILD, "PLN", MOD, "Mine")
    with pytest.raises(UserFacingError, match="no prompt"):
        await service.remove(OTHER, info.id, MOD)
    await service.remove(GUILD, info.id, MOD)
    assert await service.list_bank(GUILD) == []


async def test_suggestions_wait_for_a_moderator(sessions: SessionFactory, clock: FakeClock) -> None:
    service = PromptService(sessions, clock)
    suggestion = await service.suggest(GUILD, "PLN", 99, "A member's idea")
    assert suggestion.status == "pending"
    assert await service.take_next(GUILD, None) is None
    approved = await service.decide(GUILD, suggestion.id, MOD, approve=True)
    assert approved.status == "active"
    with pytest.raises(UserFacingError, match="already decided"):
        await service.decide(GUILD, suggestion.id, MOD, approve=False)
    assert (await service.take_next(GUILD, None)).id == suggestion.id  # type: ignore[union-attr]
