"""Request bodies decoded at the edge: every problem at once, with a stable reason (contract 2 and 3)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from parley.api.errors import status_of
from parley.api.http import parse_query
from parley.api.schemas import EventQuery, NotificationParms, SendTextParms, SendUrlParms
from parley.api.validation import convert, decode_body
from parley.domain.errors import InvalidRequest

TEXT_BODY = {"interactionId": "int_1", "entityName": "Ada", "entityType": "Agent", "text": "hello"}
NOTIFICATION_BODY = {"interactionId": "int_1", "entityName": "Ada", "entityType": "Agent", "state": "composing"}
URL_BODY = {"interactionId": "int_1", "entityName": "Ada", "entityType": "Agent", "url": "https://example.com/a"}


def problems(body: bytes | dict[str, Any], schema: type[msgspec.Struct]) -> dict[str, tuple[str, str]]:
    """scope -> (reason, message) of every problem found."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(InvalidRequest) as caught:
        decode_body(raw, schema)
    assert status_of(caught.value) == 400
    found = {p.scope: (p.reason, p.message) for p in caught.value.problems}
    assert len(found) == len(caught.value.problems), "one entry per problem"
    return found


def reasons(body: bytes | dict[str, Any], schema: type[msgspec.Struct]) -> dict[str, str]:
    return {scope: reason for scope, (reason, _) in problems(body, schema).items()}


def test_a_good_body_becomes_a_typed_struct_ignoring_unknown_fields() -> None:
    parsed = decode_body(json.dumps({**TEXT_BODY, "colour": "blue"}).encode(), SendTextParms)
    assert parsed == SendTextParms("int_1", "Ada", "Agent", "hello")


def test_expires_after_seconds_defaults_to_ten() -> None:
    assert decode_body(json.dumps(NOTIFICATION_BODY).encode(), NotificationParms).expiresAfterSeconds == 10


def test_every_bad_field_is_reported_at_once_with_its_reason() -> None:
    body = {"interactionId": 5, "entityType": "Robot", "text": "hi"}
    assert reasons(body, SendTextParms) == {
        "interactionId": "invalidType",
        "entityName": "missing",
        "entityType": "invalidValue",
    }


def test_an_empty_object_names_every_required_field() -> None:
    assert reasons({}, NotificationParms) == {
        "interactionId": "missing",
        "entityName": "missing",
        "entityType": "missing",
        "state": "missing",
    }


@pytest.mark.parametrize("text", ["", " ", " \n\t "])
def test_empty_or_blank_text_is_refused_naming_the_text(text: str) -> None:
    found = problems({**TEXT_BODY, "text": text}, SendTextParms)
    assert list(found) == ["text"]


def test_blank_text_is_explained_as_blank() -> None:
    assert problems({**TEXT_BODY, "text": "   "}, SendTextParms)["text"][1] == "text: must not be empty or blank"


@pytest.mark.parametrize(
    ("schema", "body", "scope"),
    [
        (SendTextParms, {**TEXT_BODY, "text": "   "}, "text"),
        (SendTextParms, {**TEXT_BODY, "text": ""}, "text"),
        (SendTextParms, {**TEXT_BODY, "entityName": "x" * 129}, "entityName"),
        (SendTextParms, {**TEXT_BODY, "interactionId": ""}, "interactionId"),
        (NotificationParms, {**NOTIFICATION_BODY, "expiresAfterSeconds": 0}, "expiresAfterSeconds"),
        (NotificationParms, {**NOTIFICATION_BODY, "expiresAfterSeconds": 31}, "expiresAfterSeconds"),
        (SendUrlParms, {**URL_BODY, "url": "ftp://example.com/a"}, "url"),
    ],
    ids=["blank-text", "empty-text", "long-name", "empty-id", "expires-0", "expires-31", "ftp-url"],
)
def test_a_value_of_the_right_type_out_of_its_limits_is_invalid_value(
    schema: type[msgspec.Struct], body: dict[str, Any], scope: str
) -> None:
    assert reasons(body, schema) == {scope: "invalidValue"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("expiresAfterSeconds", "10"), ("expiresAfterSeconds", 2.5), ("expiresAfterSeconds", True), ("state", 1)],
)
def test_a_value_of_the_wrong_type_is_invalid_type(field: str, value: object) -> None:
    assert reasons({**NOTIFICATION_BODY, field: value}, NotificationParms) == {field: "invalidType"}


@pytest.mark.parametrize("entity_type", ["Contact", "agent", "Robot"])
def test_an_entity_type_outside_the_enum_is_invalid_value(entity_type: str) -> None:
    assert reasons({**TEXT_BODY, "entityType": entity_type}, SendTextParms) == {"entityType": "invalidValue"}


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "/relative", "ftp://example.com/a", "https://", "https://a.example/" + "x" * 2048],
)
def test_only_an_absolute_http_url_of_at_most_2048_characters_is_accepted(url: str) -> None:
    assert list(problems({**URL_BODY, "url": url}, SendUrlParms)) == ["url"]
    decode_body(json.dumps({**URL_BODY, "url": "HTTP://a.example/?q=1#x"}).encode(), SendUrlParms)


def test_a_url_of_the_wrong_format_is_explained_as_such() -> None:
    assert problems({**URL_BODY, "url": "ftp://example.com/a"}, SendUrlParms)["url"][1] == "url: has an invalid format"


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "emptyBody"), (b" \r\n ", "emptyBody"), (b"{nope", "malformedJson"), (b"[1, 2]", "invalidType")],
)
def test_an_unreadable_body_is_one_problem_about_the_body(body: bytes, reason: str) -> None:
    assert reasons(body, SendTextParms) == {"body": reason}


def test_query_values_arrive_as_strings_and_are_converted() -> None:
    assert convert({"maxEvents": "5", "timeout": "0"}, EventQuery) == EventQuery(maxEvents=5, timeout=0)
    assert convert({}, EventQuery) == EventQuery(maxEvents=1, timeout=30)


def test_every_bad_query_value_is_reported_at_once() -> None:
    with pytest.raises(InvalidRequest) as caught:
        convert({"maxEvents": "101", "timeout": "soon"}, EventQuery)
    assert [p.scope for p in caught.value.problems] == ["maxEvents", "timeout"]


def test_a_number_no_type_can_hold_is_a_clear_400() -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_body(b'{"interactionId": "i", "text": "t", "entityName": "n", "entityType": 1e309}', SendTextParms)
    assert caught.value.problems[0].scope in ("body", "entityType")


@pytest.mark.parametrize(
    "body", [b"[" * 5000 + b"]" * 5000, b'{"contactData": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001]
)
def test_absurdly_deep_nesting_is_a_clear_400(body: bytes) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_body(body, SendTextParms)
    assert caught.value.problems[0].reason == "malformedJson"


def test_a_body_that_is_not_utf8_is_a_clear_400() -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_body(
            b'{"interactionId": "i", "text": "\xff\xfe", "entityName": "n", "entityType": "Agent"}', SendTextParms
        )
    assert caught.value.problems[0].message == "the body is not valid UTF-8"


def test_nul_in_a_text_is_refused_and_named() -> None:
    body = b'{"interactionId": "i", "text": "a\\u0000b", "entityName": "n", "entityType": "Agent"}'
    with pytest.raises(InvalidRequest) as caught:
        decode_body(body, SendTextParms)
    assert [(p.scope, p.reason) for p in caught.value.problems] == [("text", "invalidValue")]


def test_nul_nested_in_an_object_is_refused_by_its_field() -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_body(b'{"contactData": {"notes": ["ok", "x\\u0000"]}}', SendTextParms)
    assert caught.value.problems[0].scope == "contactData"


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    body = b'{"interactionId": "i", "text": "C:\\\\u0000", "entityName": "n", "entityType": "Agent"}'
    assert decode_body(body, SendTextParms).text == "C:\\u0000"


def test_nul_in_a_query_parameter_is_refused_and_named() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_query(b"email=a%00b&maxResults=5")
    assert caught.value.problems[0].scope == "email"
