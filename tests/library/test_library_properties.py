"""Property tests: one guild never sees another's data; cards and pages fit Discord's limits."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.library.export import export
from bot.library.records import Resource, ShareRef
from bot.library.service import LibraryService
from cogs.library._render import resource_info, result_pages, share_card, tag_list

WORDS = ["math", "science", "reading", "pizza", "fractions", "ai", "k-12", "maker", "art"]
_guilds = itertools.count(10_000, 10)

share_strategy = st.tuples(
    st.integers(0, 2),  # which guild
    st.integers(0, 30),  # which url
    st.lists(st.sampled_from(WORDS), max_size=3),  # tags
    st.sampled_from(WORDS),  # a title word
    st.integers(1, 4),  # member
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shares=st.lists(share_strategy, min_size=1, max_size=12))
async def test_no_guild_sees_another_guilds_data(
    sessions: SessionFactory, clock: FakeClock, shares: list[tuple[int, int, list[str], str, int]]
) -> None:
    library = LibraryService(sessions, clock)
    base = next(_guilds)
    guilds = [base, base + 1, base + 2]
    owned: dict[int, set[str]] = {g: set() for g in guilds}
    for which, url_number, tags, word, member in shares:
        guild = guilds[which]
        url = f"https://site{url_number}.example/{guild}"  # the URL names its guild
        result = await library.share(guild, 1, member, url, tags=tags, title=f"{word} title")
        owned[guild].add(result.resource.canonical_url)
        await library.save(guild, result.resource.id, member)
    for guild in guilds:
        other_ids = set().union(*(owned[g] for g in guilds if g != guild))

        def mine(urls: set[str], guild: int = guild, other_ids: set[str] = other_ids) -> None:
            assert urls <= owned[guild] and not urls & other_ids

        for word in [*WORDS, "title", "site1*", ""]:
            mine({r.canonical_url for r in await library.search(guild, word, limit=100)})
        for member in range(1, 5):
            mine({r.canonical_url for r in await library.saved(guild, member)})
        mine({r.canonical_url for r in await library.export(guild)})
        assert {r.canonical_url for r in await library.export(guild)} == owned[guild]
        guild_tags = {t for w, _, tags, _, _ in shares if guilds[w] == guild for t in tags}
        assert {t.tag for t in await library.tag_counts(guild)} == guild_tags
        assert set(await library.autocomplete_tags(guild, "")) == guild_tags


texts = st.text(min_size=0, max_size=400) | st.just("@everyone " * 60) | st.just("**" * 300)
tag_strategy = st.lists(st.from_regex(r"[a-z0-9+._-]{1,32}", fullmatch=True), max_size=10)
resource_strategy = st.builds(
    Resource,
    id=st.integers(1, 10**12),
    guild_id=st.just(1),
    url=st.text(min_size=1, max_size=2048).map(lambda s: "https://e.example/" + s),
    canonical_url=st.just("https://e.example/"),
    domain=st.text(min_size=1, max_size=255),
    title=st.none() | st.text(min_size=1, max_size=300),
    note=st.none() | st.text(max_size=500),
    tags=tag_strategy.map(tuple),
    first_sharer_id=st.integers(1, 2**63 - 1),
    first_shared_at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    shares=st.integers(0, 10**6),
    votes=st.integers(0, 10**6),
    saves=st.integers(0, 10**6),
)


def _assert_fits(embed: discord.Embed) -> None:
    assert len(embed) <= 6000
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert len(field.name or "") <= 256 and len(field.value or "") <= 1024
    assert len(embed.footer.text or "") <= 2048
    for text in (embed.title or "", embed.description or ""):
        assert "@everyone" not in text.replace("@\u200beveryone", "")


@settings(max_examples=60, deadline=None)
@given(resource=resource_strategy, note=st.none() | texts)
def test_cards_fit_discord_limits(resource: Resource, note: str | None) -> None:
    _assert_fits(share_card(resource, resource.first_sharer_id, note))
    shares = [
        ShareRef(i, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i), 5, i or None)
        for i in range(15)
    ]
    _assert_fits(resource_info(resource, shares, 1))


@settings(max_examples=30, deadline=None)
@given(resources=st.lists(resource_strategy, max_size=12))
def test_result_pages_and_exports_fit_and_parse(resources: list[Resource]) -> None:
    pages = result_pages(resources, title="Search " + "x" * 300, empty="none")
    assert len(pages) == max(1, -(-len(resources) // 5))
    for page in pages:
        _assert_fits(page)
    rows = list(csv.DictReader(io.StringIO(export(resources, "csv")[1].decode(), newline="")))
    assert [int(row["id"]) for row in rows] == [r.id for r in resources]
    document = json.loads(export(resources, "json")[1])
    assert [r["url"] for r in document["resources"]] == [r.url for r in resources]
    links: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                links.append(dict(attrs)["href"] or "")

    Links().feed(export(resources, "html")[1].decode())
    assert links == [r.url for r in resources]


def test_tag_list_fits() -> None:
    from bot.library.records import TagCount

    for page in tag_list([TagCount("t" * 32, 10**9)] * 500):
        _assert_fits(page)
