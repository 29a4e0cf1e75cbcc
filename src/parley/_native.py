"""Which of Parley's modules run compiled, and a guard that never lets a stale build run.

``scripts/build_native.py`` compiles the hot path's modules with mypyc into extension modules
beside their sources and writes a manifest of the sources it compiled. Python imports an
extension before a source file of the same name, so a build left behind by an edit (or a
checkout) would silently run old code; when any compiled source no longer matches the manifest,
or ``PARLEY_PURE_PYTHON=1`` is set, every compiled module is imported from its source instead.
All or none: compiled modules call each other directly, so mixing them with sources is unsafe.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

MANIFEST_NAME = "native-build.json"
PACKAGE_ROOT = Path(__file__).resolve().parent


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def module_source(root: Path, module: str) -> Path:
    """``parley.api.app`` → ``<root>/api/app.py`` (root is the ``parley`` package directory)."""
    return root.joinpath(*module.split(".")[1:]).with_suffix(".py")


def stale_modules(root: Path, manifest: dict[str, object]) -> list[str]:
    """Compiled modules whose source changed since the build (or whose build was for another Python)."""
    modules = manifest.get("modules")
    if not isinstance(modules, dict) or manifest.get("cache_tag") != sys.implementation.cache_tag:
        return ["*"]
    stale = []
    for module, digest in modules.items():
        source = module_source(root, module)
        if not source.exists() or source_digest(source) != digest:
            stale.append(module)
    return stale


def read_manifest(root: Path) -> dict[str, object] | None:
    try:
        loaded = json.loads((root / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


class SourceFirst:
    """A meta-path finder that imports the named modules from their ``.py`` files."""

    def __init__(self, root: Path, modules: Sequence[str]) -> None:
        self.root = root
        self.modules = frozenset(modules)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, module_source(self.root, fullname))


def _choose() -> tuple[bool, str]:
    manifest = read_manifest(PACKAGE_ROOT)
    if manifest is None:
        return False, "not built (scripts/build_native.py)"
    modules = manifest.get("modules")
    names = list(modules) if isinstance(modules, dict) else []
    if os.environ.get("PARLEY_PURE_PYTHON", "") not in ("", "0"):
        reason = "PARLEY_PURE_PYTHON is set"
    elif stale := stale_modules(PACKAGE_ROOT, manifest):
        reason = f"the build is out of date ({', '.join(stale[:3])}{', ...' if len(stale) > 3 else ''})"
    else:
        return True, f"{len(names)} modules compiled"
    sys.meta_path.insert(0, SourceFirst(PACKAGE_ROOT, names))
    return False, reason


COMPILED, STATUS = _choose()
