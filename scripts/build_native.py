"""Compile the modules of Parley's hot path with mypyc, in place beside their sources.

Run by scripts/ensure-venv.sh. It rebuilds only when a listed source (or the Python) changed,
and writes ``src/parley/native-build.json`` last, naming every compiled module with the digest
of the source it came from; ``parley._native`` imports sources instead whenever they differ.
Exit status 1 (and nothing compiled left behind) if the build fails; what mypyc and the C
compiler printed is kept in build/native/build.log.

    .venv/bin/python scripts/build_native.py           # build if out of date
    .venv/bin/python scripts/build_native.py --clean   # remove the build: pure Python again
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = SRC / "parley"
BUILD = ROOT / "build" / "native"
GROUP = "parley_native"

# Everything a sendText, a poll and a token request run through. Not compiled: modules that use
# async generators (not supported by mypyc), msgspec schemas (their field defaults), and the
# routes of rarer requests; all of them are off the per-message path or cheap.
MODULES = [
    "parley.clock",
    "parley.domain.accounts",
    "parley.domain.errors",
    "parley.domain.events",
    "parley.domain.ids",
    "parley.domain.interactions",
    "parley.domain.typing",
    "parley.service.accounts",
    "parley.service.cache",
    "parley.service.counters",
    "parley.service.interactions",
    "parley.service.messaging",
    "parley.service.ports",
    "parley.service.ratelimit",
    "parley.service.streaming",
    "parley.service.tokens",
    "parley.service.typing",
    "parley.service.webchat",
    "parley.adapters.bus.memory",
    "parley.adapters.storage.conflicts",
    "parley.adapters.storage.dialect",
    "parley.adapters.storage.postgres",
    "parley.adapters.storage.rows",
    "parley.adapters.storage.sql_base",
    "parley.adapters.storage.sqlite",
    "parley.adapters.storage.workers",
    "parley.api.app",
    "parley.api.connection",
    "parley.api.errors",
    "parley.api.gate",
    "parley.api.idempotency",
    "parley.api.http",
    "parley.api.validation",
    "parley.api.routes.common",
    "parley.api.routes.messaging",
    "parley.api.routes.public_chat",
    "parley.api.routes.streaming",
    "parley.streaming.wire",
]

sys.path.insert(0, str(SRC))
from parley._native import MANIFEST_NAME, module_source, read_manifest, source_digest  # noqa: E402


def wanted_manifest() -> dict[str, object]:
    return {
        "cache_tag": sys.implementation.cache_tag,
        "modules": {m: source_digest(module_source(PACKAGE, m)) for m in MODULES},
    }


def built_files() -> list[Path]:
    return [*PACKAGE.rglob("*.so"), *PACKAGE.rglob("*.pyd"), *SRC.glob(f"{GROUP}__mypyc*")]


def clean() -> None:
    (PACKAGE / MANIFEST_NAME).unlink(missing_ok=True)
    for path in built_files():
        path.unlink()


@contextmanager
def quiet(log: Path) -> Iterator[None]:
    """Send what the compiler and mypyc print (notes on constructs they compile less well) to a log."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("wb") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def build(manifest: dict[str, object]) -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    paths = [str(module_source(PACKAGE, m).relative_to(SRC)) for m in MODULES]
    os.chdir(SRC)
    os.environ["MYPY_CACHE_DIR"] = str(BUILD / "mypy-cache")  # not under src
    extensions = mypycify(
        paths,
        group_name=GROUP,
        multi_file=True,
        target_dir=str(BUILD / "c"),
        opt_level="3",
    )
    setup(
        name="parley-native",
        ext_modules=extensions,
        script_args=[
            "--quiet",
            "build_ext",
            "--inplace",
            "--build-temp",
            str(BUILD / "temp"),
            "--build-lib",
            str(BUILD / "lib"),
            "-j",
            "2",
        ],
    )
    (PACKAGE / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules and stop")
    args = parser.parse_args()
    if args.clean:
        clean()
        return 0
    manifest = wanted_manifest()
    if read_manifest(PACKAGE) == manifest and len(built_files()) > len(MODULES):
        return 0
    clean()
    print(f"compiling {len(MODULES)} modules of the hot path with mypyc (about a minute)...", flush=True)
    started = time.monotonic()
    BUILD.mkdir(parents=True, exist_ok=True)
    log = BUILD / "build.log"
    try:
        with quiet(log):
            build(manifest)
    except (Exception, SystemExit) as exc:
        clean()
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        print(f"compiling failed ({exc}); Parley runs as pure Python", file=sys.stderr)
        return 1
    print(f"compiled in {time.monotonic() - started:.0f} s", flush=True)
    shutil.rmtree(BUILD / "temp", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
