"""The README's curl walkthrough works when pasted: run as it is written, against a real server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.server import start_server

README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough() -> str:
    section = README.read_text().split("## A first conversation with curl", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_walkthrough_ends_with_the_customer_reading_the_agents_answer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, {"PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}"}, serve_args=("--demo",))
    try:
        env = {**os.environ, "PARLEY_URL": server.base_url, "PARLEY_DATA_DIR": str(data)}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough()],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "Hello Carla, how can I help?", done.stdout
    assert '"interactionId"' in lines[0]  # the chat the customer started
