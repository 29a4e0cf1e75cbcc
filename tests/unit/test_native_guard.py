"""The guard that decides whether the compiled hot path may run (parley._native)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley import _native
from parley._native import SourceFirst, module_source, source_digest, stale_modules

PACKAGE = Path(_native.__file__).resolve().parent


def _package(tmp_path: Path) -> Path:
    root = tmp_path / "parley"
    (root / "api").mkdir(parents=True)
    (root / "api" / "app.py").write_text("VALUE = 1\n")
    (root / "clock.py").write_text("NOW = 0\n")
    return root


def _manifest(root: Path, *modules: str) -> dict[str, object]:
    return {
        "cache_tag": sys.implementation.cache_tag,
        "modules": {m: source_digest(module_source(root, m)) for m in modules},
    }


def test_a_module_name_maps_to_its_source_file(tmp_path: Path) -> None:
    assert module_source(tmp_path, "parley.api.routes.common") == tmp_path / "api" / "routes" / "common.py"


def test_a_build_of_the_current_sources_is_not_stale(tmp_path: Path) -> None:
    root = _package(tmp_path)
    assert stale_modules(root, _manifest(root, "parley.api.app", "parley.clock")) == []


def test_an_edited_source_makes_its_module_stale(tmp_path: Path) -> None:
    root = _package(tmp_path)
    manifest = _manifest(root, "parley.api.app", "parley.clock")
    (root / "clock.py").write_text("NOW = 1\n")
    assert stale_modules(root, manifest) == ["parley.clock"]


def test_a_removed_source_makes_its_module_stale(tmp_path: Path) -> None:
    root = _package(tmp_path)
    manifest = _manifest(root, "parley.api.app")
    (root / "api" / "app.py").unlink()
    assert stale_modules(root, manifest) == ["parley.api.app"]


def test_a_build_for_another_python_is_stale_as_a_whole(tmp_path: Path) -> None:
    root = _package(tmp_path)
    manifest = {**_manifest(root, "parley.clock"), "cache_tag": "cpython-39"}
    assert stale_modules(root, manifest) == ["*"]


def test_a_manifest_without_modules_is_stale(tmp_path: Path) -> None:
    assert stale_modules(tmp_path, {"cache_tag": sys.implementation.cache_tag}) == ["*"]


def test_the_finder_imports_only_the_named_modules_from_source(tmp_path: Path) -> None:
    root = _package(tmp_path)
    finder = SourceFirst(root, ["parley.api.app"])
    spec = finder.find_spec("parley.api.app")
    assert spec is not None
    assert spec.origin == str(root / "api" / "app.py")
    assert finder.find_spec("parley.clock") is None


def _where(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json, parley._native as n, parley.api.app as a, parley.adapters.storage.workers as w;"
        "print(json.dumps({'compiled': n.COMPILED, 'status': n.STATUS, 'files': [a.__file__, w.__file__]}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_pure_python_is_chosen_when_asked() -> None:
    where = _where({"PARLEY_PURE_PYTHON": "1"})
    assert where["compiled"] is False
    assert all(str(f).endswith(".py") for f in where["files"])  # type: ignore[attr-defined]


@pytest.mark.skipif(not (PACKAGE / _native.MANIFEST_NAME).exists(), reason="not compiled: run scripts/build_native.py")
def test_a_current_build_runs_compiled() -> None:
    manifest = json.loads((PACKAGE / _native.MANIFEST_NAME).read_text())
    assert stale_modules(PACKAGE, manifest) == [], "the build is out of date: run scripts/build_native.py"
    where = _where({"PARLEY_PURE_PYTHON": ""})
    assert where["compiled"] is True, where["status"]
    assert not any(str(f).endswith(".py") for f in where["files"])  # type: ignore[attr-defined]
