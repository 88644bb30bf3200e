"""OPML 1.0/2.0, the format every feed reader imports and exports.

Read with defusedxml (no entity expansion, no external entities: the file is a member's upload);
written with the standard library. No OPML package on PyPI is both maintained and safe to parse
untrusted files with, and OPML is a dozen lines of XML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserFacingError

MAX_OUTLINES = 2000


@dataclass(frozen=True)
class Outline:
    url: str
    title: str | None = None
    site_url: str | None = None


def parse_opml(data: bytes) -> list[Outline]:
    """Every feed (`<outline xmlUrl=…>`, at any depth) in the file, in order, once each."""
    # Imported on an upload, not at start-up: few servers ever import OPML.
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        raise UserFacingError("That file is not OPML (it is no readable XML).") from None
    if root.tag.lower() != "opml":
        raise UserFacingError("That file is not OPML (its root is not `<opml>`).")
    found: list[Outline] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url.lower().startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        title = (outline.get("title") or outline.get("text") or "").strip() or None
        site = (outline.get("htmlUrl") or "").strip() or None
        found.append(Outline(url, title, site))
        if len(found) >= MAX_OUTLINES:
            break
    if not found:
        raise UserFacingError("That OPML file lists no feeds (no `xmlUrl`).")
    return found


def write_opml(title: str, outlines: Iterable[Outline], created: datetime) -> bytes:
    # Imported on an export, not at start-up: few servers ever export OPML.
    import xml.etree.ElementTree as ET

    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = created.strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = ET.SubElement(root, "body")
    for outline in outlines:
        attributes = {"type": "rss", "text": outline.title or outline.url, "xmlUrl": outline.url}
        if outline.title:
            attributes["title"] = outline.title
        if outline.site_url:
            attributes["htmlUrl"] = outline.site_url
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
