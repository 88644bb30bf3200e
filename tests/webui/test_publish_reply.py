"""What a moderator is told by /mod library publish."""

from __future__ import annotations

from bot.webui.publishing import Publication
from cogs.library._mod import publish_reply

URL = "https://pln.example/g/abc/"


def test_the_moderator_gets_the_address_and_what_readers_will_see() -> None:
    named = publish_reply(Publication(1, "abc", True, True), URL, web_ui_on=True)
    assert f"<{URL}>" in named and "names are shown" in named and "/me privacy" in named
    unnamed = publish_reply(Publication(1, "abc", True, False), URL, web_ui_on=True)
    assert "names are not shown" in unnamed and "web server is off" not in unnamed


def test_publishing_while_the_web_server_is_off_says_so() -> None:
    text = publish_reply(Publication(1, "abc", True, False), URL, web_ui_on=False)
    assert "[web_ui] enabled = false" in text


def test_unpublishing_says_every_page_is_gone() -> None:
    text = publish_reply(Publication(1, "abc", False, False), URL, web_ui_on=True)
    assert "404" in text and URL not in text
