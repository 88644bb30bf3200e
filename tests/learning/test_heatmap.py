"""The heatmap's squares are shaded by each local day's minutes: read back pixel by pixel."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

from PIL import Image

from bot.learning.heatmap import (
    BACKGROUND,
    SHADES,
    TOPIC_COLOURS,
    WEEKS,
    cell_center,
    first_day,
    heatmap_png,
    shade_of,
    topic_weeks_png,
)

TODAY = date(2026, 3, 4)  # a Wednesday: Thursday to Sunday of this week are still to come
GOAL = 20


def _image(days: dict[date, int]) -> Image.Image:
    data = heatmap_png(days, TODAY, GOAL)
    assert data.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(data)).convert("RGB")


def _every_day() -> list[date]:
    start = first_day(TODAY)
    return [start + timedelta(days=i) for i in range((TODAY - start).days + 1)]


def test_no_entries_every_past_day_is_an_empty_square_and_the_future_is_blank() -> None:
    image = _image({})
    assert first_day(TODAY).weekday() == 0
    assert len(_every_day()) == (WEEKS - 1) * 7 + 3
    for day in _every_day():
        assert image.getpixel(cell_center(TODAY, day)) == SHADES[0], day
    for ahead in range(1, 5):
        assert image.getpixel(cell_center(TODAY, TODAY + timedelta(days=ahead))) == BACKGROUND


def test_one_entry_shades_exactly_its_own_square() -> None:
    day = TODAY - timedelta(days=100)
    image = _image({day: 45})
    shaded = [d for d in _every_day() if image.getpixel(cell_center(TODAY, d)) != SHADES[0]]
    assert shaded == [day]
    assert image.getpixel(cell_center(TODAY, day)) == SHADES[4]  # twice the goal or more


def test_a_full_year_every_square_matches_its_minutes() -> None:
    rng = random.Random(18)
    days = {d: rng.choice([0, 5, 15, 20, 39, 40, 120]) for d in _every_day()}
    image = _image(days)
    for day, minutes in days.items():
        assert image.getpixel(cell_center(TODAY, day)) == SHADES[shade_of(minutes, GOAL)], day
    # Rows are weekdays: Monday on top, so a Monday and the next Sunday share a column.
    monday = first_day(TODAY)
    assert cell_center(TODAY, monday)[0] == cell_center(TODAY, monday + timedelta(days=6))[0]


def test_shades_grow_with_the_minutes_against_the_goal() -> None:
    assert [shade_of(m, 20) for m in (0, 9, 10, 19, 20, 39, 40)] == [0, 1, 2, 2, 3, 3, 4]


def test_the_topic_chart_stacks_each_topics_minutes_in_its_week() -> None:
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(12)]
    data = topic_weeks_png(weeks, {"Maths": [60] * 11 + [0], "Art": [0] * 11 + [30]})
    image = Image.open(io.BytesIO(data)).convert("RGB")
    # Bars start at x=40, 34 px apart; the plot's baseline is y=156, its top (60 min) y=14.
    assert image.getpixel((52, 100)) == TOPIC_COLOURS[0]  # Maths fills the first week
    assert image.getpixel((426, 150)) == TOPIC_COLOURS[1]  # Art, half as much, the last
    assert image.getpixel((426, 60)) == BACKGROUND
