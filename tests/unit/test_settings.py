"""Settings from the environment: defaults, and clear refusals of values Parley cannot use."""

from __future__ import annotations

import pytest

from parley.settings import ConfigurationError, Settings


def test_web_tokens_last_an_hour_unless_configured() -> None:
    assert Settings.from_env({}).web_token_seconds == 3600
    assert Settings.from_env({"PARLEY_WEB_TOKEN_SECONDS": "900"}).web_token_seconds == 900


@pytest.mark.parametrize("value", ["9", "86401", "soon"])
def test_a_web_token_lifetime_out_of_range_is_refused_by_name(value: str) -> None:
    with pytest.raises(ConfigurationError, match="PARLEY_WEB_TOKEN_SECONDS"):
        Settings.from_env({"PARLEY_WEB_TOKEN_SECONDS": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [("PARLEY_DATABASE_URL", "mysql://x"), ("PARLEY_EVENTS_URL", "kafka://x"), ("PARLEY_PORT", "-1")],
)
def test_unusable_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(("name", "value"), [("PARLEY_LOG_LEVEL", "verbose")])
def test_an_unknown_log_level_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({name: value})
    assert refused.value.name == name and value in refused.value.why
