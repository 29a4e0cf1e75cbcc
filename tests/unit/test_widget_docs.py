"""The widget's guide says what the code does about origins and web-token renewal.

The browser suite shows both for real (a page of another origin chats; a chat outlasts its first
web token); this keeps the guide from claiming the opposite again.
"""

from __future__ import annotations

import re
from pathlib import Path

from parley.settings import Settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "web-chat-widget.md"


def guide() -> str:
    return re.sub(r"\s+", " ", GUIDE.read_text(encoding="utf-8"))


def test_the_guide_says_other_origins_may_embed_the_widget_as_the_cors_setting_allows() -> None:
    text = guide()
    assert f"`PARLEY_CORS_ORIGINS` (default `{Settings().cors_origins}`" in text
    assert not re.search(r"no CORS|must share an origin|must be served from the API's origin", text, re.I)


def test_the_guide_says_a_web_token_is_renewed() -> None:
    text = guide()
    assert "renewed" in text and "`PARLEY_WEB_TOKEN_SECONDS`" in text
    assert not re.search(r"cannot be renewed for the same contact", text, re.I)
