"""Reading HTML (a fetched page, a feed item's summary) with BeautifulSoup's stdlib parser.

BeautifulSoup is imported on first use: with the parsers it registers it adds about 6 MiB, which a
bot that never reads a page (no captures with titles, no feeds) should not carry.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup


def read_html(markup: bytes | str, charset: str | None = None) -> BeautifulSoup:
    """The parsed document. `charset` is the one the response declared, if any."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        # A summary that looks like a URL, or a page that is XHTML: both are read as HTML, which
        # is what is wanted, so bs4's advice is noise in the log.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(markup, "html.parser", from_encoding=charset)
