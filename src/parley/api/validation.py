"""Request bodies and queries decoded at the edge into typed structs (msgspec).

The fast path decodes in one pass. Only when that fails does the slow path walk the fields
one by one, so that a body with three bad fields gets three entries in ``errors[]``.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar, get_args

import msgspec
from msgspec import Meta

from parley.domain.errors import InvalidRequest, Problem

T = TypeVar("T", bound=msgspec.Struct)

NOT_BLANK: Final = Meta(extra_json_schema={"pattern": r"\S"})
"""Marks a ``str`` field that must hold more than white space (``Annotated[str, ..., NOT_BLANK]``).

Documented as a pattern but checked here in code: as a msgspec pattern it ran a regular
expression on every text, two thirds of the cost of decoding a sendText.
"""

_BLANK: Final = "must not be empty or blank"

# Per schema, built once: its decoder and the attribute names of its fields marked NOT_BLANK.
_schemas: Final[dict[type[Any], tuple[msgspec.json.Decoder[Any], tuple[str, ...]]]] = {}


def _compiled(schema: type[T]) -> tuple[msgspec.json.Decoder[T], tuple[str, ...]]:
    found = _schemas.get(schema)
    if found is None:
        marked = (f.name for f in msgspec.structs.fields(schema) if any(m is NOT_BLANK for m in get_args(f.type)[1:]))
        found = _schemas[schema] = (msgspec.json.Decoder(schema), tuple(marked))
    return found


def _has_blank(value: msgspec.Struct, not_blank: tuple[str, ...]) -> bool:
    for name in not_blank:
        field = getattr(value, name)
        if isinstance(field, str) and field.isspace():
            return True
    return False


def blank(body: bytes) -> bool:
    """Empty or only whitespace (without copying the body, as strip() would)."""
    return not body or body.isspace()


def decode_body(body: bytes, schema: type[T]) -> T:
    if blank(body):
        raise InvalidRequest.of("body", "emptyBody", "the request body is empty; a JSON object is required")
    # bytes.find rather than `in`: `in` first tries the needle as an int and clears the error
    if body.find(b"\\u0000") >= 0:  # rare enough to look closer only then
        refuse_nul_in_json(body)
    decoder, not_blank = _compiled(schema)
    try:
        value = decoder.decode(body)
        if not _has_blank(value, not_blank):
            return value
    except msgspec.ValidationError:
        pass  # (a subclass of DecodeError) readable JSON that does not fit: say which fields
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _unreadable(exc) from None
    try:
        raw = msgspec.json.decode(body)
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError) as exc:
        raise _unreadable(exc) from None
    raise InvalidRequest(*collect_problems(raw, schema))


def refuse_nul(fields: dict[str, str]) -> None:
    """NUL is never part of a name, an id or a chat text, and PostgreSQL cannot store it."""
    bad = [name for name, value in fields.items() if "\x00" in value or "\x00" in name]
    if bad:
        raise InvalidRequest(*(_nul_problem(name) for name in bad))


def refuse_nul_in_json(body: bytes) -> None:
    try:
        raw = msgspec.json.decode(body)
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError) as exc:
        raise _unreadable(exc) from None
    fields = raw.items() if isinstance(raw, dict) else [("body", raw)]
    try:
        bad = [str(name) for name, value in fields if "\x00" in str(name) or _holds_nul(value)]
    except RecursionError:
        raise _unreadable(RecursionError()) from None
    if bad:
        raise InvalidRequest(*(_nul_problem(name) for name in bad))


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in str(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _nul_problem(name: str) -> Problem:
    shown = name.replace("\x00", "\\0")
    return Problem(shown, "invalidValue", f"{shown} may not contain NUL characters")


def _unreadable(exc: Exception) -> InvalidRequest:
    if isinstance(exc, UnicodeDecodeError):
        return InvalidRequest.of("body", "malformedJson", "the body is not valid UTF-8")
    if isinstance(exc, RecursionError):
        return InvalidRequest.of("body", "malformedJson", "the body nests arrays or objects too deeply")
    if isinstance(exc, msgspec.ValidationError):  # e.g. a number no type can hold, such as 1e309
        return InvalidRequest.of("body", "invalidValue", f"the body cannot be read: {exc}")
    return InvalidRequest.of("body", "malformedJson", f"the body is not valid JSON: {exc}")


def convert(data: dict[str, Any], schema: type[T]) -> T:
    """Typed struct from already-parsed data (query strings, form fields), all problems at once."""
    try:
        value = msgspec.convert(data, type=schema, strict=False)
        if not _has_blank(value, _compiled(schema)[1]):
            return value
    except msgspec.ValidationError:
        pass
    raise InvalidRequest(*collect_problems(data, schema, strict=False))


def collect_problems(raw: Any, schema: type[msgspec.Struct], strict: bool = True) -> list[Problem]:
    if not isinstance(raw, dict):
        return [Problem("body", "invalidType", "the body must be a JSON object")]
    problems: list[Problem] = []
    not_blank = _compiled(schema)[1]
    for f in msgspec.structs.fields(schema):
        name = f.encode_name
        if name not in raw:
            if f.required:
                problems.append(Problem(name, "missing", f"{name} is required"))
            continue
        value = raw[name]
        try:
            msgspec.convert(value, type=f.type, strict=strict)
        except msgspec.ValidationError as exc:
            problems.append(Problem(name, _reason(str(exc)), f"{name}: {_describe(str(exc), value)}"))
            continue
        if f.name in not_blank and isinstance(value, str) and value.isspace():
            problems.append(Problem(name, "invalidValue", f"{name}: {_BLANK}"))
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
        return _BLANK if isinstance(value, str) and not value.strip() else "has an invalid format"
    return text
