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


def test_a_client_has_10_s_for_a_head_and_30_s_for_a_body_and_to_take_an_answer_unless_configured() -> None:
    defaults = Settings.from_env({})
    assert (defaults.request_head_timeout_seconds, defaults.request_body_timeout_seconds) == (10, 30)
    assert defaults.send_timeout_seconds == 30
    tuned = Settings.from_env(
        {
            "PARLEY_REQUEST_HEAD_TIMEOUT_SECONDS": "2.5",
            "PARLEY_REQUEST_BODY_TIMEOUT_SECONDS": "0",
            "PARLEY_SEND_TIMEOUT_SECONDS": "60",
        }
    )
    assert tuned.request_head_timeout_seconds == 2.5
    assert tuned.request_body_timeout_seconds == 0
    assert tuned.send_timeout_seconds == 60


def test_a_chat_waits_for_ever_unless_a_queue_timeout_is_set_and_then_gets_its_message() -> None:
    assert Settings.from_env({}).queue_timeout_seconds == 0
    assert "nobody is free" in Settings.from_env({}).queue_timeout_message
    tuned = Settings.from_env({"PARLEY_QUEUE_TIMEOUT_SECONDS": "300", "PARLEY_QUEUE_TIMEOUT_MESSAGE": "Back at 9."})
    assert (tuned.queue_timeout_seconds, tuned.queue_timeout_message) == (300, "Back at 9.")
