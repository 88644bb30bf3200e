"""Rate limits: the limiter's rules on a fake clock, then the real discord.py client against them.

discord.py paces itself by the bucket headers (no 429 at all on one busy channel) and retries
global 429s, so every message still arrives once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import aiohttp
import discord
import pytest
from _support import StartBot, api, make_bot

from discord_emulator import DiscordEmulator, RateLimits, RateLimitStats, RouteLimit

MESSAGES = "/channels/{channel_id}/messages"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MEMBER = "/guilds/{guild_id}/members/{user_id}"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(
    now: FakeTime,
    *,
    global_per_second: int = 50,
    routes: Mapping[tuple[str, str], RouteLimit] | None = None,
) -> RateLimits:
    return RateLimits(
        global_per_second=global_per_second,
        routes=routes,
        time=now,
        epoch=lambda: 1_700_000_000.0,
    )


def post(limits: RateLimits, channel: str = "1") -> tuple[str | None, dict[str, str]]:
    verdict = limits.check("POST", MESSAGES, {"channel_id": channel})
    return verdict.limited, dict(verdict.headers)


# --- the limiter on a fake clock ---------------------------------------------------------------


def test_bucket_counts_down_then_refuses_until_its_window_resets() -> None:
    now = FakeTime()
    limits = limiter(now)  # POST messages: Discord's 5 per 5 s per channel
    seen = [post(limits) for _ in range(5)]
    assert [h["X-RateLimit-Remaining"] for _, h in seen] == ["4", "3", "2", "1", "0"]
    assert all(scope is None for scope, _ in seen)
    first = seen[0][1]
    assert first["X-RateLimit-Limit"] == "5" and first["X-RateLimit-Reset-After"] == "5.000"
    assert first["X-RateLimit-Reset"] == "1700000005.000"

    now.now += 2.0
    verdict = limits.check("POST", MESSAGES, {"channel_id": "1"})
    assert verdict.limited == "user" and verdict.retry_after == 3.0
    assert verdict.body() == {
        "message": "You are being rate limited.",
        "retry_after": 3.0,
        "global": False,
    }
    assert verdict.headers["X-RateLimit-Scope"] == "user"
    assert verdict.headers["Retry-After"] == "3"
    assert verdict.headers["Via"] == "1.1 google"  # else discord.py assumes a Cloudflare ban
    assert "X-RateLimit-Global" not in verdict.headers

    now.now += 3.0  # the window opened by the first request has ended
    scope, headers = post(limits)
    assert scope is None and headers["X-RateLimit-Remaining"] == "4"
    assert headers["X-RateLimit-Reset-After"] == "5.000"


def test_each_channel_has_its_own_bucket_with_the_same_bucket_id() -> None:
    limits = limiter(FakeTime())
    for _ in range(5):
        post(limits, "1")
    assert post(limits, "1")[0] == "user"
    scope, headers = post(limits, "2")
    assert scope is None and headers["X-RateLimit-Remaining"] == "4"
    # The bucket id names the route's limit, not the channel (discord.py keys on id + channel).
    assert headers["X-RateLimit-Bucket"] == post(limits, "3")[1]["X-RateLimit-Bucket"]


def test_routes_naming_one_bucket_share_its_quota() -> None:
    limits = limiter(FakeTime())
    reaction = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"
    params = {"channel_id": "1", "message_id": "2", "emoji_name": "x"}
    assert limits.check("PUT", reaction, params).limited is None
    assert limits.check("DELETE", reaction, params).limited == "user"


def test_overrides_and_the_default_for_other_routes() -> None:
    limits = limiter(FakeTime(), routes={("post", MESSAGES): RouteLimit(2, 0.5)})
    assert limits.limit_for("POST", MESSAGES) == RouteLimit(2, 0.5)
    assert limits.limit_for("GET", "/users/@me") == RouteLimit(50, 1.0)
    assert [post(limits)[0] for _ in range(3)] == [None, None, "user"]


def test_global_limit_spans_routes_and_resources() -> None:
    now = FakeTime()
    limits = limiter(now, global_per_second=3)
    assert [post(limits, str(c))[0] for c in range(3)] == [None, None, None]
    now.now += 0.25
    verdict = limits.check("GET", MEMBER, {"guild_id": "9", "user_id": "1"})
    assert verdict.limited == "global" and verdict.retry_after == 0.75
    assert verdict.body()["global"] is True
    assert verdict.headers["X-RateLimit-Global"] == "true"
    assert verdict.headers["X-RateLimit-Scope"] == "global"
    assert verdict.headers["Retry-After"] == "1"
    now.now += 0.75
    assert post(limits, "7")[0] is None


def test_a_refused_request_uses_up_no_quota() -> None:
    now = FakeTime()
    limits = limiter(now, global_per_second=2, routes={("POST", MESSAGES): RouteLimit(1, 60)})
    assert post(limits, "1")[0] is None
    assert post(limits, "1")[0] == "user"  # not counted globally
    assert post(limits, "2")[0] is None
    assert post(limits, "3")[0] == "global"
    now.now += 1.0
    assert post(limits, "3")[0] is None  # channel 3's bucket was not touched by its 429


def test_interaction_and_webhook_token_routes_are_exempt_from_the_global_limit() -> None:
    limits = limiter(FakeTime(), global_per_second=1)
    assert post(limits)[0] is None
    assert post(limits, "2")[0] == "global"
    for i in range(5):
        callback = {"interaction_id": str(i), "interaction_token": f"t{i}"}
        followup = {"webhook_id": "42", "webhook_token": f"t{i}"}
        assert limits.check("POST", CALLBACK, callback).limited is None
        assert limits.check("POST", FOLLOWUP, followup).limited is None
    assert limits.stats().peak_per_second == 1


def test_counters() -> None:
    now = FakeTime()
    limits = limiter(now, global_per_second=3, routes={("POST", MESSAGES): RouteLimit(2, 10)})
    for _ in range(3):
        post(limits, "1")
    post(limits, "2")
    post(limits, "3")  # the fourth request in this second that counts globally
    limits.check("POST", CALLBACK, {"interaction_id": "1", "interaction_token": "t"})
    now.now += 1.0
    post(limits, "4")

    stats = limits.stats()
    assert stats.requests == 7 and stats.served == 5
    assert stats.route_limited == {f"POST {MESSAGES}": 1}
    assert stats.global_limited == {f"POST {MESSAGES}": 1}
    assert (stats.route_429s, stats.global_429s) == (1, 1)
    assert stats.peak_per_second == 3  # 1, 1, 2 in the first second (the callback is exempt)

    limits.reset()
    assert limits.stats().requests == 0 and post(limits, "1")[0] is None


# --- the emulator's REST answers --------------------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    """This module's emulator has rate limits on, the messages bucket small enough to hit fast."""
    limits = RateLimits(routes={("POST", MESSAGES): RouteLimit(5, 0.5)})
    async with DiscordEmulator(rate_limits=limits) as emulator:
        yield emulator
        emulator.assert_no_violations()


def stats(emu: DiscordEmulator) -> RateLimitStats:
    assert emu.rate_limits is not None
    return emu.rate_limits.stats()


async def test_rate_limits_are_off_unless_asked() -> None:
    async with DiscordEmulator() as plain:
        assert plain.rate_limits is None
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                plain.api_base_url + "/users/@me", headers={"Authorization": f"Bot {plain.token}"}
            ) as response,
        ):
            assert response.status == 200
            assert "X-RateLimit-Limit" not in response.headers


async def test_a_429_never_reaches_the_handler(emu: DiscordEmulator) -> None:
    assert emu.rate_limits is not None
    emu.rate_limits.routes["POST", MESSAGES] = RouteLimit(1, 60)
    channel = emu.create_channel(emu.create_guild("PLN"), "general")
    path = f"/channels/{channel.id}/messages"
    assert (await api(emu, "POST", path, {"content": "one"}))[0] == 200
    status, body = await api(emu, "POST", path, {"content": "two"})
    assert status == 429 and body["global"] is False and 59 < body["retry_after"] <= 60
    assert [m.content for m in emu.history(channel)] == ["one"]
    assert [r.status for r in emu.requests] == [200, 429]
    assert stats(emu).route_limited == {f"POST {MESSAGES}": 1}


async def test_errors_carry_the_bucket_headers_too(emu: DiscordEmulator) -> None:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            emu.api_base_url + "/channels/123/messages", json={"content": "x"}, headers=headers
        ) as response,
    ):
        assert response.status == 404
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == "4"
        assert response.headers["X-RateLimit-Bucket"]


# --- the real discord.py client ---------------------------------------------------------------


async def test_discord_py_waits_on_the_bucket_headers_and_is_never_refused(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    general = emu.create_channel(emu.create_guild("PLN"), "general")
    bot = await start_bot(make_bot())
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    started = time.monotonic()
    await asyncio.gather(*(channel.send(f"m{i}") for i in range(12)))
    elapsed = time.monotonic() - started

    assert sorted(m.content for m in emu.history(general)) == sorted(f"m{i}" for i in range(12))
    assert (stats(emu).route_429s, stats(emu).global_429s) == (0, 0)
    assert elapsed >= 1.0  # 12 messages at 5 per 0.5 s need three windows: it really waited


async def test_global_429s_are_retried_until_every_message_arrives(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = emu.create_guild("PLN")
    channels = [emu.create_channel(guild, f"c{i}") for i in range(25)]
    bot = await start_bot(make_bot())
    assert emu.rate_limits is not None
    emu.rate_limits.global_per_second = 10  # 25 messages at once: well over the limit
    emu.rate_limits.reset()  # count the burst alone, not the bot's start-up requests
    targets = [bot.get_channel(c.id) for c in channels]
    assert all(isinstance(t, discord.TextChannel) for t in targets)
    # Every channel is its own bucket, so only the global limit holds them back.
    await asyncio.gather(*(t.send("digest") for t in targets))  # type: ignore[union-attr]

    assert all(len(emu.history(c)) == 1 for c in channels)
    burst = stats(emu)
    assert burst.global_429s > 0 and burst.route_429s == 0
    assert set(burst.global_limited) == {f"POST {MESSAGES}"}
    assert burst.served == 25 and burst.peak_per_second == 10


async def test_interaction_replies_pass_while_the_global_limit_is_spent(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    alice = emu.create_member(guild, "alice")
    bot = make_bot()

    @bot.tree.command(name="ping", description="Pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.followup.send("pong")

    await start_bot(bot)
    await bot.tree.sync()
    assert emu.rate_limits is not None
    emu.rate_limits.global_per_second = 1
    emu.rate_limits.reset()
    assert (await api(emu, "GET", "/users/@me"))[0] == 200  # spends this second's quota

    interaction = await emu.invoke(alice, "ping", channel=general)
    assert (await emu.wait_for_response(interaction)).content == "pong"
    assert stats(emu).global_429s == 0 and stats(emu).peak_per_second == 1
