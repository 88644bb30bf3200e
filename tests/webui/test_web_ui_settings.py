"""[web_ui] settings: off by default, and set from the environment like every section."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.settings import WebUISettings, load_settings


def test_the_web_ui_is_off_until_the_operator_turns_it_on() -> None:
    assert load_settings(env={}).web_ui == WebUISettings()
    assert not WebUISettings().enabled


def test_environment_variables_reach_the_web_ui_section_not_web() -> None:
    settings = load_settings(
        env={
            "PLNBOT_WEB_UI_ENABLED": "true",
            "PLNBOT_WEB_UI_PORT": "9090",
            "PLNBOT_WEB_UI_BASE_URL": "https://pln.example.org/",
            "PLNBOT_WEB_TIMEOUT_SECONDS": "7",
        }
    )
    assert settings.web_ui.enabled and settings.web_ui.port == 9090
    assert settings.web_ui.base_url == "https://pln.example.org"
    assert settings.web.timeout_seconds == 7


def test_a_base_url_must_be_a_web_address() -> None:
    with pytest.raises(ConfigError, match=r"web_ui.base_url"):
        load_settings(env={"PLNBOT_WEB_UI_BASE_URL": "pln.example.org"})
