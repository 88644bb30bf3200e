"""The library as files: CSV, JSON and Netscape bookmark HTML (what browsers import)."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from typing import Literal

from bot.library.records import Resource

ExportFormat = Literal["csv", "json", "html"]
CSV_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "domain",
    "tags",
    "note",
    "first_sharer_id",
    "first_shared_at",
    "shares",
    "votes",
    "saves",
)


def _row(resource: Resource) -> dict[str, str | int | list[str] | None]:
    return {
        "id": resource.id,
        "url": resource.url,
        "canonical_url": resource.canonical_url,
        "title": resource.title,
        "domain": resource.domain,
        "tags": list(resource.tags),
        "note": resource.note,
        "first_sharer_id": str(resource.first_sharer_id),
        "first_shared_at": resource.first_shared_at.isoformat(),
        "shares": resource.shares,
        "votes": resource.votes,
        "saves": resource.saves,
    }


def _csv_cell(value: object) -> str:
    text = " ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas; a leading quote keeps them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(resources: Sequence[Resource]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for resource in resources:
        writer.writerow({k: _csv_cell(v) for k, v in _row(resource).items()})
    return buffer.getvalue().encode("utf-8")


def to_json(resources: Sequence[Resource]) -> bytes:
    document = {
        "format": "pln-bot library",
        "version": 1,
        "resources": [_row(r) for r in resources],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def to_netscape_html(resources: Sequence[Resource], *, folder: str = "PLN library") -> bytes:
    lines = [
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>",
        "<!-- This is an automatically generated file. -->",
        '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">',
        "<TITLE>Bookmarks</TITLE>",
        "<H1>Bookmarks</H1>",
        "<DL><p>",
        f"    <DT><H3>{html.escape(folder)}</H3>",
        "    <DL><p>",
    ]
    for resource in resources:
        attributes = (
            f'HREF="{html.escape(resource.url, quote=True)}" '
            f'ADD_DATE="{int(resource.first_shared_at.timestamp())}"'
        )
        if resource.tags:
            attributes += f' TAGS="{html.escape(",".join(resource.tags), quote=True)}"'
        lines.append(f"        <DT><A {attributes}>{html.escape(resource.display_title)}</A>")
        if resource.note:
            lines.append(f"        <DD>{html.escape(resource.note)}")
    lines += ["    </DL><p>", "</DL><p>", ""]
    return "\n".join(lines).encode("utf-8")


def export(resources: Sequence[Resource], fmt: ExportFormat) -> tuple[str, bytes]:
    """A file name and its bytes."""
    if fmt == "csv":
        return "library.csv", to_csv(resources)
    if fmt == "json":
        return "library.json", to_json(resources)
    return "library-bookmarks.html", to_netscape_html(resources)
