"""Opt-out and opt-in keywords: the whole message, any case, punctuation around it ignored."""

from __future__ import annotations

import pytest

from parley.domain.sms import opt_keyword


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        " stop ",
        "STOP!",
        "¡Stop!",
        "\nQuit.\n",
    ],
)
def test_opt_out_keywords_stop(text: str) -> None:
    assert opt_keyword(text) == "stop"


@pytest.mark.parametrize("text", ["START", "start", "Unstop", " UNSTOP!! ", "start."])
def test_opt_in_keywords_start(text: str) -> None:
    assert opt_keyword(text) == "start"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "please stop", "stop it", "STOP ALL", "stopp", "starting", "end?!now", "s t o p", "STOP 🛑"],
)
def test_other_texts_are_no_keyword(text: str) -> None:
    assert opt_keyword(text) is None
