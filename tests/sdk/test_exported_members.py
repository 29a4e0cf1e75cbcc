"""The public surface is exactly ``__all__``, and every member claims the package as its home."""

from __future__ import annotations

import inspect
import re

import parley_client


def test_all_lists_every_public_member_and_nothing_else() -> None:
    public = {
        name
        for name, member in vars(parley_client).items()
        if not name.startswith("_") and not inspect.ismodule(member)
    }
    assert sorted(parley_client.__all__) == sorted(public | {"__version__"})


def test_exported_classes_and_functions_live_in_parley_client() -> None:
    for name in parley_client.__all__:
        member = getattr(parley_client, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__ == "parley_client", name


def test_the_exception_tree_drawn_in_the_module_docstring_is_the_real_one() -> None:
    from parley_client import _exceptions

    drawing = (_exceptions.__doc__ or "").split("```")[1].strip().splitlines()
    drawn: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in drawing:
        match = re.search(r"[A-Za-z]+", line)
        assert match is not None
        column, name = match.start(), match.group()
        while stack and stack[-1][0] >= column:
            stack.pop()
        drawn[name] = stack[-1][1] if stack else None
        stack.append((column, name))
    errors = {
        name: getattr(parley_client, name)
        for name in parley_client.__all__
        if inspect.isclass(getattr(parley_client, name)) and issubclass(getattr(parley_client, name), Exception)
    }
    assert set(drawn) == set(errors)
    for name, cls in errors.items():
        parent = cls.__bases__[0].__name__
        assert drawn[name] == (None if parent == "Exception" else parent), name
