"""The resource library, end to end: the real bot and discord.py against the Discord emulator."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import web
from support.world import MakeWorld, World, text_of

from bot.settings import WebSettings
from discord_emulator import EmulatorUsageError, Message

pytestmark = pytest.mark.e2e


@pytest.fixture
async def page_server() -> AsyncIterator[str]:
    async def article(_request: web.Request) -> web.Response:
        return web.Response(
            text="<html><head><title>Fractions with pizza @everyone</title></head></html>",
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_get("/article", article)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/article"
    await runner.cleanup()


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    # The page-title fetcher may reach the test's page server on 127.0.0.1, and nothing else.
    return await make_world(
        channels=("math-topic",), web=WebSettings(allow_loopback_for_tests=True)
    )


def buttons(message: Message) -> list[dict[str, Any]]:
    return [c for row in message.components for c in row.get("components", [])]


async def test_a_member_shares_a_link_and_a_second_is_told_it_was_shared(world: World) -> None:
    emu = world.emu
    card = await world.run(
        world.alice,
        "share",
        {
            "url": "https://www.edutopia.org/article/fractions?utm_source=x",
            "tags": "Math, #K-12",
            "note": "Great for @everyone in grade 4",
            "title": "Teaching fractions",
        },
    )
    assert not card.ephemeral
    shown = text_of(card)
    assert "Teaching fractions" in shown and "edutopia.org" in shown
    assert "`k-12`" in shown and "`math`" in shown and f"<@{world.alice.user.id}>" in shown
    assert not card.mention_everyone
    assert any(b.get("custom_id", "").startswith("library:save:") for b in buttons(card))

    async def card_recorded() -> bool:
        found = await world.bot.services.library.search(world.guild.id, "fractions")
        shares = (
            await world.bot.services.library.shares_of(world.guild.id, found[0].id) if found else []
        )
        return bool(shares) and shares[0].message_id == card.id

    assert await world.eventually(card_recorded)  # so reactions on the card count as votes

    # Bob and Carol share it again (http, no www, tracking): one card stays in the channel.
    cards_before = len(world.bot_posts(world.general)) + 1
    notice = await world.run(
        world.bob, "share", {"url": "http://edutopia.org/article/fractions/?fbclid=abc#top"}
    )
    assert notice.ephemeral and "Already in the library" in notice.content
    assert f"<@{world.alice.user.id}> shared this" in notice.content
    assert f"/{world.general.id}/{card.id}" in notice.content  # the jump link
    again = await world.run(world.carol, "share", {"url": "https://edutopia.org/article/fractions"})
    assert again.ephemeral and "Counted as your share" in again.content
    own = await world.run(world.alice, "share", {"url": "https://edutopia.org/article/fractions"})
    assert "You shared this" in own.content
    public = [m for m in world.emu.history(world.general) if not m.ephemeral]
    assert len(public) == cards_before  # still one card
    found = await world.bot.services.library.search(world.guild.id, "fractions")
    assert len(found) == 1 and found[0].shares == 4
    assert found[0].url == "https://edutopia.org/article/fractions"  # clean, https

    # Bob wants it seen here after all.
    click = await emu.click(world.bob, notice, "Post it here anyway")
    posted = await emu.wait_for_response(click)
    assert not posted.ephemeral and "Teaching fractions" in text_of(posted)
    assert f"<@{world.bob.user.id}>" in text_of(posted)

    # bad input: a private explanation and nothing saved
    refused = await world.run(world.bob, "share", {"url": "javascript:alert(1)"})
    assert refused.ephemeral and "web links" in refused.content
    assert len(await world.bot.services.library.export(world.guild.id)) == 1


async def test_the_title_is_fetched_in_the_background(world: World, page_server: str) -> None:
    card = await world.run(world.alice, "share", {"url": page_server})

    async def titled() -> str | None:
        found = await world.bot.services.library.search(world.guild.id, "pizza")
        return found[0].title if found else None

    assert await world.eventually(titled) == "Fractions with pizza @everyone"
    edited = await world.emu.wait_until(
        lambda: "pizza" in text_of(world.emu.state.messages[card.id]) or None
    )
    assert edited
    assert not world.emu.state.messages[card.id].mention_everyone


async def test_topic_links_are_captured_searched_paged_voted_and_saved(world: World) -> None:
    emu = world.emu
    reply = await world.run(
        world.mod, "mod capture add", {"channel": world.channels["math-topic"], "tags": "math"}
    )
    assert "now saved" in reply.content
    posted = await emu.post_message(
        world.alice,
        world.channels["math-topic"],
        "Look at https://pizza.example/fractions and `https://code.example/` "
        "and https://tenor.com/view/cat "
        + " ".join(f"https://n{i}.example/math" for i in range(6)),
    )

    async def captured() -> int:
        return len(await world.bot.services.library.search(world.guild.id, tag="math"))

    assert await world.eventually(captured) == 7

    page = await world.run(world.bob, "search", {"query": "math", "tag": "math"})
    assert page.ephemeral and "Results 1-5 of 7" in text_of(page)
    turned = await emu.click(world.bob, page, "Next")
    page = await emu.wait_for_response(turned)
    assert "Results 6-7 of 7" in text_of(page)
    posted_publicly = await emu.click(world.bob, page, "Post publicly")
    public = await emu.wait_for_response(posted_publicly)
    assert not public.ephemeral and "Results 6-7 of 7" in text_of(public)

    await emu.react(world.bob, posted, "⭐")
    await emu.react(world.bob, posted, "🔖")

    async def voted() -> int:
        found = await world.bot.services.library.search(world.guild.id, "pizza")
        return found[0].votes if found else 0

    assert await world.eventually(voted) == 1

    async def saved_count() -> int:
        return len(await world.bot.services.library.saved(world.guild.id, world.bob.user.id))

    assert await world.eventually(saved_count) == 7
    saved = await world.run(world.bob, "saved")
    assert "of 7" in text_of(saved)  # 🔖 on a message saves every link it holds
    saved_urls = {
        r.canonical_url
        for r in await world.bot.services.library.saved(world.guild.id, world.bob.user.id)
    }
    assert "https://pizza.example/fractions" in saved_urls
    await emu.unreact(world.bob, posted, "⭐")

    async def unvoted() -> bool:
        return (await world.bot.services.library.search(world.guild.id, "pizza"))[0].votes == 0

    assert await world.eventually(unvoted)


async def test_a_member_saves_a_card_and_finds_it_in_saved(world: World) -> None:
    emu = world.emu
    card = await world.run(
        world.alice, "share", {"url": "https://save.example/x", "title": "Worth keeping"}
    )
    pressed = await emu.click(world.bob, card, "Save")
    assert "Saved resource" in (await emu.wait_for_response(pressed)).content
    saved = await world.run(world.bob, "saved")
    assert saved.ephemeral and "Worth keeping" in text_of(saved)
    empty = await world.run(world.alice, "saved")
    assert "Nothing saved yet" in text_of(empty)


async def test_save_to_library_context_menu_asks_for_tags(world: World) -> None:
    emu = world.emu
    message = await emu.post_message(world.bob, world.general, "read https://ctx.example/page")
    opened = await emu.invoke_message_command(world.alice, "Save to library", message)
    submitted = await emu.submit_modal(world.alice, opened, {"library:save:tags": "reading, ai"})
    reply = await emu.wait_for_response(submitted)
    assert "Added 1 link" in reply.content
    found = await world.bot.services.library.search(world.guild.id, tag="reading")
    assert [r.canonical_url for r in found] == ["https://ctx.example/page"]
    assert found[0].first_sharer_id == world.bob.user.id


async def test_a_moderator_exports_the_library_and_it_parses_back(world: World) -> None:
    emu = world.emu
    for number in range(3):
        await world.run(
            world.alice,
            "share",
            {"url": f"https://e{number}.example/", "title": f"=cmd {number}", "tags": "x"},
        )
    with pytest.raises(EmulatorUsageError, match="cannot see 'mod'"):
        await world.run(world.alice, "mod library export", {"format": "csv"})
    # Even if a server's admins show /mod to everyone, the bot checks who asks.
    refused = await world.run(
        world.alice, "mod library export", {"format": "csv"}, bypass_default_permissions=True
    )
    assert "moderators" in refused.content
    exports: dict[str, bytes] = {}
    for fmt in ("csv", "json", "html"):
        interaction = await world.invoke(world.mod, "mod library export", {"format": fmt})
        reply = await emu.wait_for_followup(interaction)
        assert reply.ephemeral and reply.attachments
        exports[fmt] = emu.attachment_bytes(reply)
    rows = list(csv.DictReader(io.StringIO(exports["csv"].decode(), newline="")))
    assert [r["url"] for r in rows] == [f"https://e{n}.example/" for n in range(3)]
    assert rows[0]["title"] == "'=cmd 0"  # formulas are defused for spreadsheets
    document = json.loads(exports["json"])
    assert [r["tags"] for r in document["resources"]] == [["x"]] * 3
    hrefs: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                hrefs.append(dict(attrs).get("href") or "")

    Links().feed(exports["html"].decode())
    assert hrefs == [f"https://e{n}.example/" for n in range(3)]


async def test_tags_are_listed_and_autocompleted(world: World) -> None:
    emu = world.emu
    await world.run(world.alice, "share", {"url": "https://t.example/", "tags": "math maker"})
    await world.run(world.alice, "share", {"url": "https://u.example/", "tags": "math"})
    listed = await world.run(world.bob, "library tags")
    assert "`math` — 2" in text_of(listed) and "`maker` — 1" in text_of(listed)
    choices = await emu.autocomplete(
        world.bob,
        "share",
        {"url": "https://v.example/", "tags": "science, ma"},
        focused="tags",
        channel=world.general,
    )
    assert [c["value"] for c in choices] == ["science, math", "science, maker"]


async def test_sharers_and_moderators_edit_and_remove_resources(world: World) -> None:
    card = await world.run(
        world.alice, "share", {"url": "https://edit.example/", "title": "Edit me", "tags": "old"}
    )
    found = await world.bot.services.library.search(world.guild.id, "edit")
    rid = found[0].id
    info = await world.run(world.bob, "resource info", {"id": rid})
    assert info.ephemeral and "Edit me" in text_of(info) and "`old`" in text_of(info)
    refused = await world.run(world.bob, "resource tag", {"id": rid, "tags": "spam"})
    assert "Only a member who shared" in refused.content
    tagged = await world.run(world.alice, "resource tag", {"id": rid, "tags": "new, #Better"})
    assert "`better` `new` `old`" in tagged.content
    untagged = await world.run(world.mod, "resource untag", {"id": rid, "tags": "old"})
    assert "`better` `new`" in untagged.content and "`old`" not in untagged.content
    refused = await world.run(
        world.bob,
        "mod capture add",
        {"channel": world.channels["math-topic"]},
        bypass_default_permissions=True,
    )
    assert "moderators" in refused.content
    removed = await world.run(world.mod, "resource remove", {"id": rid})
    assert f"Removed resource #{rid}" in removed.content
    gone = await world.run(world.alice, "resource info", {"id": rid})
    assert gone.ephemeral and "no resource" in gone.content
    assert await world.bot.services.library.search(world.guild.id, "edit") == []
    entries = await world.bot.services.guilds.audit_log(world.guild.id)
    assert entries[0].action == "library.remove" and entries[0].actor_id == world.mod.user.id
    assert card.id  # the card stays in the channel; the library no longer lists it


@pytest.mark.parametrize(
    "host",
    ["①②⑦.0.0.1", "１２７.０.０.１", "127。0。0。1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"],
)
async def test_a_link_to_the_bots_own_machine_is_never_fetched(
    make_world: MakeWorld, host: str
) -> None:
    hits: list[str] = []

    async def inside(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="<title>Internal admin</title>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", inside)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        world = await make_world()  # the fetcher may reach public addresses only, as deployed
        reply = await world.run(world.alice, "share", {"url": f"http://{host}:{port}/admin"})
        assert "Something went wrong" not in reply.content
        library_cog = world.bot.get_cog("Library")
        assert library_cog is not None

        async def title_fetches_done() -> bool:
            return not library_cog._title_tasks  # type: ignore[attr-defined]

        await world.eventually(title_fetches_done)
        assert "Internal admin" not in text_of(world.emu.state.messages[reply.id])
        assert hits == []
    finally:
        await runner.cleanup()
