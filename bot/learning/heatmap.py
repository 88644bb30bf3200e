"""The progress pictures (Pillow): a 52-week calendar heatmap, and minutes per topic per week.

Pure and synchronous (a few milliseconds): callers run them in a thread, off the event loop.
The heatmap is one column per week (Monday on top), the last column this week; each local day's
square is shaded by its minutes against the member's goal (`shade_of`). Days after today are
left blank. `cell_center` says where a day's square is, so a test can read its pixel.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from PIL import Image, ImageDraw, ImageFont

WEEKS = 53  # the last 52 weeks and this one
CELL, GAP = 11, 3
PITCH = CELL + GAP
LEFT, TOP, BOTTOM, RIGHT = 34, 22, 30, 12
BACKGROUND = (255, 255, 255)
INK = (87, 96, 106)
# Level 0 (nothing logged) to 4 (twice the goal or more).
SHADES = (
    (235, 237, 240),
    (172, 230, 174),
    (105, 192, 110),
    (56, 145, 64),
    (25, 97, 39),
)
DAY_LABELS = {0: "Mon", 2: "Wed", 4: "Fri"}
TOPIC_COLOURS = (
    (66, 133, 244),
    (234, 67, 53),
    (251, 188, 5),
    (52, 168, 83),
    (171, 71, 188),
    (0, 172, 193),
    (158, 158, 158),
)


def shade_of(minutes: int, goal: int) -> int:
    """0 nothing, 1 under half the goal, 2 under the goal, 3 the goal met, 4 twice the goal."""
    if minutes <= 0:
        return 0
    goal = max(goal, 1)
    if minutes * 2 < goal:
        return 1
    if minutes < goal:
        return 2
    if minutes < 2 * goal:
        return 3
    return 4


def first_day(today: date) -> date:
    """The Monday of the heatmap's first column."""
    return today - timedelta(days=today.weekday(), weeks=WEEKS - 1)


def cell_center(today: date, day: date) -> tuple[int, int]:
    """The pixel at the middle of `day`'s square on the heatmap drawn for `today`."""
    offset = (day - first_day(today)).days
    if not 0 <= offset < WEEKS * 7:
        raise ValueError(f"{day} is not on the heatmap of {today}")
    column, row = divmod(offset, 7)
    return LEFT + column * PITCH + CELL // 2, TOP + row * PITCH + CELL // 2


def heatmap_png(days: Mapping[date, int], today: date, goal: int) -> bytes:
    # Drawn with a few whole-image operations (C, mostly without the GIL), not 371 rectangles,
    # so the event loop's thread is never kept waiting for the interpreter.
    image = _frame(today).copy()
    start = first_day(today)
    blank = len(SHADES)  # the palette index of days still to come
    indices = bytearray(WEEKS * 7)
    for offset in range(WEEKS * 7):
        day = start + timedelta(days=offset)
        column, row = divmod(offset, 7)
        level = shade_of(days.get(day, 0), goal) if day <= today else blank
        indices[row * WEEKS + column] = level
    cells = Image.frombytes("P", (WEEKS, 7), bytes(indices))
    cells.putpalette([channel for colour in (*SHADES, BACKGROUND) for channel in colour])
    grid = cells.convert("RGB").resize((WEEKS * PITCH, 7 * PITCH), Image.Resampling.NEAREST)
    image.paste(grid, (LEFT, TOP), _cell_mask())
    return _png(image)


@functools.cache
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


@functools.cache
def _cell_mask() -> Image.Image:
    """White where squares go, black in the gaps between them."""
    mask = Image.new("L", (WEEKS * PITCH, 7 * PITCH), 0)
    draw = ImageDraw.Draw(mask)
    for column in range(WEEKS):
        for row in range(7):
            x, y = column * PITCH, row * PITCH
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=255)
    return mask


@functools.lru_cache(maxsize=8)
def _frame(today: date) -> Image.Image:
    """Everything but the squares: weekday and month labels, the legend (one per day)."""
    width = LEFT + WEEKS * PITCH + RIGHT
    height = TOP + 7 * PITCH + BOTTOM
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font()
    for row, label in DAY_LABELS.items():
        draw.text((4, TOP + row * PITCH), label, fill=INK, font=font)
    start = first_day(today)
    last_month = None
    for column in range(WEEKS - 2):
        monday = start + timedelta(weeks=column)
        if monday.month != last_month:
            draw.text((LEFT + column * PITCH, 4), f"{monday:%b}", fill=INK, font=font)
            last_month = monday.month
    legend_y = TOP + 7 * PITCH + 8
    draw.text((LEFT, legend_y), "Less", fill=INK, font=font)
    for index, shade in enumerate(SHADES):
        x = LEFT + 32 + index * PITCH
        draw.rectangle((x, legend_y + 1, x + CELL - 1, legend_y + CELL), fill=shade)
    draw.text((LEFT + 32 + len(SHADES) * PITCH + 4, legend_y), "More", fill=INK, font=font)
    return image


def topic_weeks_png(
    weeks: Sequence[date], minutes: Mapping[str, Sequence[int]], *, height: int = 180
) -> bytes:
    """Stacked bars: one per week (oldest first), one colour per topic, with a legend."""
    bar, gap, left, top, legend = 26, 8, 40, 14, 18 * max(1, len(minutes))
    plot = height - top - 24
    width = left + len(weeks) * (bar + gap) + 180
    image = Image.new("RGB", (width, height + legend), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font()
    totals = [sum(values[i] for values in minutes.values()) for i in range(len(weeks))]
    scale = plot / max(max(totals, default=0), 1)
    draw.text((4, top - 4), f"{max(totals, default=0)}", fill=INK, font=font)
    draw.line((left - 4, top, left - 4, top + plot), fill=INK)
    for i, week in enumerate(weeks):
        x = left + i * (bar + gap)
        y = top + plot
        for index, values in enumerate(minutes.values()):
            size = round(values[i] * scale)
            if size:
                colour = TOPIC_COLOURS[index % len(TOPIC_COLOURS)]
                draw.rectangle((x, y - size, x + bar - 1, y - 1), fill=colour)
                y -= size
        draw.text((x, top + plot + 4), f"{week:%d.%m}", fill=INK, font=font)
    for index, name in enumerate(minutes):
        y = top + plot + 24 + index * 18
        colour = TOPIC_COLOURS[index % len(TOPIC_COLOURS)]
        draw.rectangle((left, y, left + 10, y + 10), fill=colour)
        draw.text((left + 16, y), name[:40] or "no topic", fill=INK, font=font)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
