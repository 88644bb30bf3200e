"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium.

Selenium's calls block, so each runs in a thread: the bot and its web server keep serving on
the test's event loop meanwhile.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NAVIGATION_SECONDS = 20
T = TypeVar("T")


class Browser:
    def __init__(self, driver: webdriver.Chrome, artifacts: Path) -> None:
        self.driver = driver
        self.artifacts = artifacts

    async def _do(self, work: Callable[[], T]) -> T:
        return await asyncio.to_thread(work)

    async def open(self, url: str) -> None:
        await self._do(lambda: self.driver.get(url))

    async def text(self, css: str = "body") -> str:
        return await self._do(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    async def texts(self, css: str) -> list[str]:
        return await self._do(
            lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]
        )

    async def type_and_submit(self, label: str, words: str) -> None:
        """Type into the field a reader finds by its label, press Enter, wait for the page."""

        def work() -> None:
            field = self._labelled(label)
            field.clear()
            self._navigating(lambda: field.send_keys(words + "\n"))

        await self._do(work)

    async def click_link(self, text: str) -> None:
        """Follow a link, as a reader does, and wait for the next page."""
        link = await self._do(lambda: self.driver.find_element(By.LINK_TEXT, text))
        await self._do(lambda: self._navigating(link.click))

    def _navigating(self, act: Callable[[], object]) -> None:
        page = self.driver.find_element(By.TAG_NAME, "html")
        act()
        WebDriverWait(self.driver, NAVIGATION_SECONDS).until(staleness_of(page))

    async def title(self) -> str:
        return await self._do(lambda: self.driver.title)

    async def url(self) -> str:
        return await self._do(lambda: self.driver.current_url)

    async def page_width(self) -> tuple[int, int]:
        """(the viewport's width, the page's): wider than the viewport scrolls sideways."""
        script = "return [window.innerWidth, document.documentElement.scrollWidth]"
        inner, scroll = await self._do(lambda: self.driver.execute_script(script))
        return int(inner), int(scroll)

    async def displayed(self, css: str) -> bool:
        return await self._do(
            lambda: any(e.is_displayed() for e in self.driver.find_elements(By.CSS_SELECTOR, css))
        )

    async def emulate_media(self, media: str) -> None:
        """Lay the page out as for `media` ("print", or "" for the screen again)."""
        command = ("Emulation.setEmulatedMedia", {"media": media})
        await self._do(lambda: self.driver.execute_cdp_cmd(*command))

    async def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        await self._do(lambda: self.driver.save_screenshot(str(path)))
        return path

    def _labelled(self, label: str) -> WebElement:
        for element in self.driver.find_elements(By.TAG_NAME, "label"):
            if element.text.strip() == label:
                return self.driver.find_element(By.ID, element.get_attribute("for") or "")
        raise AssertionError(f"no field labelled {label!r}")


@asynccontextmanager
async def headless_chromium(artifacts: Path, *, width: int = 360) -> AsyncIterator[Browser]:
    """A phone-wide (360 px) headless Chromium; skips when Chromium is not installed."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=800,900",
    ):
        options.add_argument(argument)
    # A window is at least 500 px wide; the page is laid out for a phone's viewport instead.
    metrics = {"width": width, "height": 800, "pixelRatio": 1.0}
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    await asyncio.to_thread(artifacts.mkdir, parents=True, exist_ok=True)
    driver = await asyncio.to_thread(
        webdriver.Chrome, options=options, service=Service(CHROMEDRIVER)
    )
    try:
        yield Browser(driver, artifacts)
    finally:
        await asyncio.to_thread(driver.quit)
