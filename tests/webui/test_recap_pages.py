"""The recap archive on the web: one page per week as posted, and the recaps' Atom feed."""

from __future__ import annotations

from datetime import timedelta

import feedparser
from support.webui import ALICE, CHANNEL, GUILD, GUILD_NAMES, MOD, Web


async def post_recap(web: Web) -> str:
    await web.recap.configure(GUILD, GUILD_NAMES[GUILD], MOD, channel_id=CHANNEL)
    for n in range(3):
        await web.library.share(
            GUILD, CHANNEL, ALICE, f"https://example.com/w{n}", title=f"Week link {n}"
        )
        web.clock.advance(timedelta(hours=1))
    recap = await web.recap.prepare(GUILD, web.clock.now(), trigger="manual")
    assert recap.recap_id is not None
    await web.recap.mark_posted(GUILD, recap.recap_id)
    return (recap.week.start).date().isoformat()  # the guild's zone is UTC here


async def test_a_posted_recap_has_its_page_and_feed_entry(web: Web) -> None:
    week = await post_recap(web)
    unposted = await web.recap.prepare(GUILD, web.clock.now() + timedelta(days=7), trigger="manual")
    assert unposted.recap_id is not None  # still "posting": not on the web
    pub = await web.publish(names=True)

    status, html, _ = await web.get(web.path(pub, "recaps"))
    assert status == 200
    assert html.count('href="/g/' + pub.slug + "/recaps/20") == 1
    assert f"/recaps/{week}" in html

    status, html, _ = await web.get(web.path(pub, f"recaps/{week}"))
    assert status == 200
    assert all(f"Week link {n}" in html for n in range(3))
    assert "3 links shared" in html
    assert "Alice Live" in html  # the top contributor, named as the guild chose

    await web.members.set_privacy(GUILD, GUILD_NAMES[GUILD], ALICE, hide_from_contributors=True)
    _, html, _ = await web.get(web.path(pub, f"recaps/{week}"))
    assert "Alice Live" not in html

    status, _, _ = await web.get(web.path(pub, "recaps/2001-01-01"))
    assert status == 404

    _, text, _ = await web.get(web.path(pub, "recaps/feed.atom"))
    feed = feedparser.parse(text)
    assert not feed.bozo
    assert len(feed.entries) == 1
    assert feed.entries[0].link.endswith(f"/g/{pub.slug}/recaps/{week}")
    assert "Week link 0" in feed.entries[0].summary
