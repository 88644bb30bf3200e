"""Settings: the TOML file, environment overrides, and an error that says what to fix."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bot.errors import ConfigError
from bot.settings import Settings, load_settings, section_fields

REPO = Path(__file__).resolve().parent.parent
SECRET = "MTIz.very-secret-token.value"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_documents_exactly_the_defaults() -> None:
    assert load_settings(REPO / "config.example.toml", env={}) == Settings()


def test_every_setting_is_documented_in_the_example() -> None:
    example = (REPO / "config.example.toml").read_text()
    for section, kind in section_fields(Settings).items():
        assert f"[{section}]" in example
        for key in section_fields(kind):
            assert f"{key} =" in example, f"{section}.{key} is not in config.example.toml"


def test_file_values_and_env_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[discord]\ntoken = "from-file"\nmessage_content_intent = true\n'
        '[database]\nurl = "sqlite:///x.db"\n',
    )
    env = {
        "PLNBOT_DATABASE_URL": "postgresql://pln@db/pln",
        "PLNBOT_DATABASE_AUTO_MIGRATE": "false",
        "PLNBOT_DISCORD_SHARD_COUNT": "4",
        "PLNBOT_DISCORD_SHARD_IDS": "0,1",
        "PLNBOT_LOGGING_LEVEL": "debug",
        "PLNBOT_TEST_POSTGRES_URL": "ignored: not a setting",
    }
    settings = load_settings(path, env=env)
    assert settings.discord.token.get_secret_value() == "from-file"
    assert settings.discord.message_content_intent is True
    assert settings.database.url == "postgresql+asyncpg://pln@db/pln"
    assert settings.database.auto_migrate is False
    assert settings.discord.shard_count == 4
    assert settings.discord.shard_ids == (0, 1)
    assert settings.logging.level == "DEBUG"


def test_discord_token_env_var_sets_the_token(tmp_path: Path) -> None:
    settings = load_settings(None, env={"DISCORD_TOKEN": SECRET})
    assert settings.require_token() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(msgspec.structs.asdict(settings))


def test_plain_sqlite_url_gets_the_async_driver() -> None:
    settings = load_settings(None, env={"PLNBOT_DATABASE_URL": "sqlite:///data/x.db"})
    assert settings.database.url == "sqlite+aiosqlite:///data/x.db"


def test_missing_default_file_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, env={}) == Settings()


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        (
            "[discord]\nshard_count = 0\n",
            {},
            r"discord\.shard_count = 0: expected a whole number >= 1",
        ),
        (
            '[database]\nurl = "mysql://x"\n',
            {},
            r"database\.url = 'mysql://x': .*sqlite\+aiosqlite",
        ),
        ("[discord]\ntokn = 'x'\n", {}, r"discord\.tokn is not a known setting .*token"),
        ("[dicsord]\n", {}, r"dicsord is not a known setting \(known here: discord, database"),
        (
            "",
            {"PLNBOT_DISCORD_SHARD_COUNT": "many"},
            r"shard_count = 'many': expected a whole number, got a",
        ),
        ("", {"PLNBOT_LOGGING_LEVEL": "loud"}, r"level = 'loud': must be one of DEBUG, INFO"),
        ("[discord]\nshard_ids = [0]\n", {}, r"\[discord\] shard_ids needs shard_count"),
        ('[discord]\napi_base_url = "ftp://x"\n', {}, r"api_base_url = 'ftp://x': .*https://"),
        (
            "[database]\nauto_migrate = 'sometimes'\n",
            {},
            r"auto_migrate = 'sometimes': expected true or",
        ),
    ],
)
def test_invalid_values_name_the_key_the_value_and_what_is_allowed(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        load_settings(write(tmp_path, text), env=env)
    assert "config.example.toml" in str(caught.value)


def test_malformed_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
        load_settings(write(tmp_path, "[discord]\ntoken = \n"), env={})


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist\. Copy config\.example\.toml"):
        load_settings(tmp_path / "nope.toml", env={})


def test_a_bad_token_value_is_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, f'[discord]\ntoken = ["{SECRET}"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "discord.token = <hidden>" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_problem_with_a_whole_section_never_echoes_the_token(tmp_path: Path) -> None:
    path = write(tmp_path, f'[discord]\ntoken = "{SECRET}"\nshard_ids = [0]\n')
    with pytest.raises(ConfigError, match=r"\[discord\] shard_ids needs shard_count") as caught:
        load_settings(path, env={})
    assert SECRET not in str(caught.value)


def test_missing_token_says_where_to_put_it() -> None:
    with pytest.raises(ConfigError, match=r"\[discord\] token.*DISCORD_TOKEN"):
        Settings().require_token()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PLNBOT_DISCORD_SHARD_IDS": "0"}, (0,)),
        ({"PLNBOT_DISCORD_SHARD_IDS": "0, 1"}, (0, 1)),
        ({"PLNBOT_DISCORD_SHARD_IDS": "[0, 1]"}, (0, 1)),
        ({"PLNBOT_LIBRARY_IGNORED_HOSTS": "example.com"}, ("example.com",)),
        ({"PLNBOT_LIBRARY_IGNORED_HOSTS": "a.example,b.example"}, ("a.example", "b.example")),
        ({"PLNBOT_LIBRARY_IGNORED_HOSTS": '["a.example"]'}, ("a.example",)),
    ],
)
def test_a_list_from_the_environment_takes_one_value_commas_or_json(
    env: dict[str, str], expected: tuple[object, ...]
) -> None:
    settings = load_settings(None, env={"PLNBOT_DISCORD_SHARD_COUNT": "2", **env})
    key = "discord" if "SHARD" in next(iter(env)) else "library"
    value = settings.discord.shard_ids if key == "discord" else settings.library.ignored_hosts
    assert value == expected


def test_a_string_from_the_environment_keeps_its_commas() -> None:
    agent = "pln-bot (+https://pln.example; contact, please)"
    settings = load_settings(None, env={"PLNBOT_WEB_USER_AGENT": agent})
    assert settings.web.user_agent == agent


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://pln@db:abc/pln", "the port 'abc' is not a number from 1 to 65535"),
        ("postgresql://pln@db:70000/pln", "the port '70000' is not a number from 1 to 65535"),
        ("postgresql://pln:s3cret@db:/pln", "the port '' is not a number"),
    ],
)
def test_a_database_port_that_is_not_a_number_is_a_setting_error(url: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env={"PLNBOT_DATABASE_URL": url})
    assert expected in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("abc", "three parts separated by dots"),
        ("x.y.z", "not an application id"),
        ("Bot MTIz.a.b", "leave out the word before the token"),
        ("MTIz.a.b\n", "spaces or line breaks"),
    ],
)
def test_a_malformed_token_is_named_without_echoing_it(token: str, problem: str) -> None:
    settings = load_settings(None, env={"DISCORD_TOKEN": token})
    with pytest.raises(ConfigError, match="malformed") as caught:
        settings.require_token()
    assert problem in str(caught.value) and token.strip() not in str(caught.value)
