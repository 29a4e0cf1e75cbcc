"""Request bodies and queries decoded at the edge into typed structs (msgspec).

The fast path decodes in one pass. Only when that fails does the slow path walk the fields
one by one, so that a body with three bad fields gets three entries in ``errors[]``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from parley.domain.errors import InvalidRequest, Problem

T = TypeVar("T", bound=msgspec.Struct)

_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def _decoder(schema: type[T]) -> msgspec.json.Decoder[T]:
    decoder = _decoders.get(schema)
    if decoder is None:
        decoder = _decoders[schema] = msgspec.json.Decoder(schema)
    return decoder


def decode_body(body: bytes, schema: type[T]) -> T:
    if not body.strip():
        raise InvalidRequest.of("body", "emptyBody", "the request body is empty; a JSON object is required")
    try:
        return _decoder(schema).decode(body)
    except msgspec.ValidationError:
        raise InvalidRequest(*collect_problems(msgspec.json.decode(body), schema)) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest.of("body", "malformedJson", f"the body is not valid JSON: {exc}") from None


def convert(data: dict[str, Any], schema: type[T]) -> T:
    """Typed struct from already-parsed data (query strings, form fields), all problems at once."""
    try:
        return msgspec.convert(data, type=schema, strict=False)
    except msgspec.ValidationError:
        raise InvalidRequest(*collect_problems(data, schema, strict=False)) from None


def collect_problems(raw: Any, schema: type[msgspec.Struct], strict: bool = True) -> list[Problem]:
    if not isinstance(raw, dict):
        return [Problem("body", "invalidType", "the body must be a JSON object")]
    problems: list[Problem] = []
    for f in msgspec.structs.fields(schema):
        name = f.encode_name
        if name not in raw:
            if f.required:
                problems.append(Problem(name, "missing", f"{name} is required"))
            continue
        try:
            msgspec.convert(raw[name], type=f.type, strict=strict)
        except msgspec.ValidationError as exc:
            problems.append(Problem(name, _reason(str(exc)), f"{name}: {_describe(str(exc), raw[name])}"))
    if not problems:
        # Every field is fine alone: the struct's own cross-field check failed.
        try:
            msgspec.convert(raw, type=schema, strict=strict)
        except msgspec.ValidationError as exc:
            problems.append(Problem("body", "invalidValue", str(exc)))
    return problems


def _reason(text: str) -> str:
    # msgspec says "Expected `int`, got `str`" for a wrong type and "Expected `int` >= 1" (or
    # "matching regex", "of length <= 128") for a right type with a wrong value.
    return "invalidType" if ", got `" in text else "invalidValue"


def _describe(text: str, value: Any) -> str:
    text = text.split(" - at `", 1)[0]
    if text.startswith("Expected `str` matching regex"):
        return "must not be empty or blank" if isinstance(value, str) and not value.strip() else "has an invalid format"
    return text
