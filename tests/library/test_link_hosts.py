"""Link hosts: bad ones are refused politely, IPv6 ones are kept, and the library's canonical
host is the one the fetcher judges."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.library.urls import Link, canonical_url, parse_link
from bot.web.fetcher import BlockedAddress, check_url
from bot.web.hosts import client_url

NO_HOST = "That link has no valid host name."
NOT_A_LINK = "That does not look like a valid web link."


@pytest.mark.parametrize(
    "bad",
    [
        "http://a..b/",
        "http://.example.com/",
        "http://" + "a" * 64 + ".com/",
        "http://" + ".".join(["a" * 63] * 4) + ".com/",  # over 253 characters
        "http://exämple..org/",
        "http://ü" + "a" * 63 + ".org/",
        "http://%65xample.com/",
        "http://exa_mple .com/",
        "http://2130706433/",  # an address, but not as anyone writes one
        "http://0x7f.1/",
        "http://[fe80::1%25eth0]/",  # a zone means nothing on another machine
        "http://[::1/",
        "http://[not-ipv6]/",
    ],
)
def test_bad_hosts_are_refused_politely(bad: str) -> None:
    with pytest.raises(UserFacingError) as refused:
        parse_link(bad)
    assert str(refused.value) in (NO_HOST, NOT_A_LINK)
    with pytest.raises(UserFacingError):
        canonical_url(bad)


@pytest.mark.parametrize(
    ("shared", "canonical", "domain"),
    [
        ("http://[2001:DB8::0:1]/a/", "http://[2001:db8::1]/a", "[2001:db8::1]"),
        ("http://[2001:db8::1]:8080/x", "http://[2001:db8::1]:8080/x", "[2001:db8::1]"),
        ("https://[2001:db8::1]:443/", "https://[2001:db8::1]/", "[2001:db8::1]"),
        ("http://[::1]:80", "http://[::1]/", "[::1]"),
    ],
)
def test_ipv6_links_keep_their_brackets(shared: str, canonical: str, domain: str) -> None:
    link = parse_link(shared)
    assert (link.canonical, link.domain) == (canonical, domain)


def test_an_ipv4_mapped_link_is_parsed_and_the_fetcher_refuses_it() -> None:
    link = parse_link("http://[::ffff:127.0.0.1]/")
    compressed = ipaddress.ip_address("::ffff:127.0.0.1").compressed  # its form varies by Python
    assert link.canonical == f"http://[{compressed}]/"
    for url in (link.original, link.canonical):
        with pytest.raises(BlockedAddress):
            check_url(url)


@pytest.mark.parametrize(
    ("shared", "canonical"),
    [
        ("https://ｅｘａｍｐｌｅ．ｃｏｍ/a", "https://example.com/a"),  # fullwidth
        ("https://example。com/a", "https://example.com/a"),  # ideographic full stop
        ("https://ＷＷＷ.Example.com/a", "https://example.com/a"),
        ("http://①②⑦.0.0.1:8080/", "http://127.0.0.1:8080/"),
        ("https://straße.de/", "https://xn--strae-oqa.de/"),  # IDNA 2008, as the client sends it
    ],
)
def test_hosts_canonicalise_to_what_the_fetcher_judges(shared: str, canonical: str) -> None:
    link = parse_link(shared)
    assert link.canonical == canonical
    judged = client_url(shared).raw_host or ""
    assert client_url(link.canonical).raw_host == judged.removeprefix("www.")


def test_a_private_address_is_a_link_but_not_fetched() -> None:
    link = parse_link("http://①②⑦.0.0.1/")
    assert link.domain == "127.0.0.1"
    with pytest.raises(BlockedAddress):
        check_url(link.original)


def _never_crashes(url: str) -> Link | None:
    """parse_link and canonical_url give an answer or a member's message, nothing else."""
    with contextlib.suppress(UserFacingError):
        canonical_url(url)
    try:
        link = parse_link(url)
    except UserFacingError:
        return None
    assert canonical_url(link.original) == link.canonical
    assert canonical_url(link.canonical) == link.canonical
    assert parse_link(link.canonical).canonical == link.canonical
    return link


_host_alphabet = st.sampled_from(
    [*"abcz019-_.:[]%@", "。", "．", "①", "１", "ｅ", "ß", "ü", "\u200b", "\u2100", "\ufe6b"]
)
_label = st.text(
    st.sampled_from([*"abcxyz0189-_", "ß", "ü", "é", "ｅ", "Ａ", "１", "①", "ⓐ", "\u200b"]),
    max_size=70,
)


@st.composite
def _hosts(draw: st.DrawFn) -> str:
    """Host names of labels joined by full stops of every kind, sometimes empty or too long."""
    labels = draw(st.lists(_label, min_size=1, max_size=5))
    dots = [draw(st.sampled_from([".", ".", "。", "．", "｡"])) for _ in labels[1:]]
    host = labels[0] + "".join(dot + label for dot, label in zip(dots, labels[1:], strict=True))
    return host + draw(st.sampled_from(["", ".", ".com", ".org"]))


_any_host = st.one_of(
    _hosts(),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
    st.text(_host_alphabet, max_size=80),
    st.text(max_size=80),
)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp"]))
    user = draw(st.sampled_from(["", "user@", "user:pw@"]))
    port = draw(st.one_of(st.just(""), st.integers(0, 70000).map(lambda n: f":{n}")))
    rest = draw(st.sampled_from(["", "/", "/path?q=1", "/a/../b/?utm_source=x&b=2&a=1#f"]))
    return f"{scheme}://{user}{draw(_any_host)}{port}{rest}{draw(st.text(max_size=10))}"


@settings(max_examples=500, deadline=None)
@given(url=st.one_of(_urls(), st.text(max_size=120)))
@example(url="http://a..b/")
@example(url="http://" + "a" * 64 + ".com/")
@example(url="http://[::ffff:127.0.0.1]/")
@example(url="http://127。0。0。1/")
@example(url="http://[::1/")
@example(url="http://[]@/")  # yarl itself raises IndexError on this one
@example(url="https://\ud800.com/")
@example(url="https://example.com/\ud800")
@example(url="http://example.com//")  # the root stays a slash
def test_any_text_is_a_link_or_a_polite_refusal(url: str) -> None:
    _never_crashes(url)


@settings(deadline=None)
@given(address=st.ip_addresses(v=6), port=st.integers(1, 65535))
def test_every_ipv6_address_makes_a_link(address: ipaddress.IPv6Address, port: int) -> None:
    link = parse_link(f"http://[{address.exploded.upper()}]:{port}/")
    shown = f"[{address.compressed}]"
    assert link.canonical == (f"http://{shown}/" if port == 80 else f"http://{shown}:{port}/")
    assert link.domain == shown
