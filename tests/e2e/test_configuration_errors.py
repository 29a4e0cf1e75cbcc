"""Bad configuration ends every command with one line naming the variable, and status 2 (contract 13)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import PARLEY

BAD = [
    ("PARLEY_LOG_LEVEL", "verbose"),
    ("PARLEY_LOG_FORMAT", "xml"),
    ("PARLEY_METRICS", "sometimes"),
    ("PARLEY_RETENTION_DAYS", "0"),
    ("PARLEY_PORT", "70000"),
    ("PARLEY_PORT", "eighty"),
    ("PARLEY_DATABASE_URL", "mysql://db/parley"),
    ("PARLEY_EVENTS_URL", "kafka://broker"),
    ("PARLEY_RATE_LIMIT_BURST", "-5"),
    ("PARLEY_ACCESS_LOG", "maybe"),
    ("PARLEY_WEB_TOKEN_SECONDS", "5"),
    ("PARLEY_SMS_GATEWAY", "http://gateway"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
@pytest.mark.parametrize("command", [["serve"], ["admin", "bootstrap", "acme", "--json"]], ids=["serve", "admin"])
def test_a_bad_value_is_one_line_naming_the_variable_and_status_2(
    tmp_path: Path, name: str, value: str, command: list[str]
) -> None:
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path), name: value}
    done = subprocess.run([PARLEY, *command], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: configuration: {name}: "), done.stderr
    assert done.stdout == ""
