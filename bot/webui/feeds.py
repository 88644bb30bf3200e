"""Atom feeds of a published library (feedgen), so members follow their PLN in a feed reader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from bot.library.records import Resource
from bot.recap.records import RecapView


@dataclass(frozen=True)
class FeedInfo:
    title: str
    page_url: str  # the HTML page the feed follows
    feed_url: str
    updated: datetime  # when nothing is in it yet


def _feed(info: FeedInfo) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(info.feed_url)
    feed.title(info.title)
    feed.link(href=info.page_url, rel="alternate", type="text/html")
    feed.link(href=info.feed_url, rel="self", type="application/atom+xml")
    feed.generator("pln-bot")
    feed.updated(info.updated)
    return feed


def resources_feed(
    info: FeedInfo,
    resources: Sequence[Resource],
    resource_url: Mapping[int, str],
    names: Mapping[int, str],
) -> bytes:
    feed = _feed(info)
    if resources:
        feed.updated(max(r.first_shared_at for r in resources))
    # feedgen lists entries in reverse order of adding: oldest added first, newest shown first.
    for resource in reversed(resources):
        entry = feed.add_entry()
        entry.id(resource_url[resource.id])
        entry.title(resource.display_title)
        # One link, the shared page itself (feedgen 1.0 writes no rel on an entry's links, so a
        # second one would read as a second alternate); the id is the resource's own page.
        entry.link(href=resource.url, rel="alternate")
        entry.published(resource.first_shared_at)
        entry.updated(resource.first_shared_at)
        name = names.get(resource.first_sharer_id)
        if name:
            entry.author(name=name)
        for tag in resource.tags:
            entry.category(term=tag)
        summary = [
            resource.note or "",
            " ".join(f"#{t}" for t in resource.tags),
            f"In the library: {resource_url[resource.id]}",
        ]
        entry.summary("\n".join(part for part in summary if part))
    return bytes(feed.atom_str(pretty=False))


@dataclass(frozen=True)
class PostedRecap:
    view: RecapView
    page_url: str
    label: str
    posted_at: datetime


def recaps_feed(info: FeedInfo, recaps: Sequence[PostedRecap]) -> bytes:
    feed = _feed(info)
    if recaps:
        feed.updated(max(r.posted_at for r in recaps))
    for recap in reversed(recaps):
        entry = feed.add_entry()
        entry.id(recap.page_url)
        entry.title(f"The week of {recap.label}")
        entry.link(href=recap.page_url, rel="alternate", type="text/html")
        entry.published(recap.posted_at)
        entry.updated(recap.posted_at)
        lines = [f"{e.rank}. {e.title} — {e.url}" for e in recap.view.entries]
        entry.summary("\n".join(lines) or "A quiet week: nothing was shared.")
    return bytes(feed.atom_str(pretty=False))
