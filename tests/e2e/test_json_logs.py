"""PARLEY_LOG_FORMAT=json: every line of a real server's log is one JSON object (contract 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.server import Org, open_chat, running_server

SECRET_TEXT = "my card number is 4111 1111 1111 1111"


def test_every_line_is_json_with_request_ids_and_lifecycle_events_and_no_secret(tmp_path: Path) -> None:
    env = {"PARLEY_LOG_FORMAT": "json", "PARLEY_LOG_LEVEL": "info", "PARLEY_ACCESS_LOG": "1"}
    with running_server(tmp_path / "data", env) as server:
        creds = server.bootstrap("acme")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        agent = org.agent(org.create_user("Ada", "Logs"))
        assert agent.ready(max_concurrent=1).status_code == 202
        customer, interaction = open_chat(org, agent)
        assert agent.send_text(interaction, SECRET_TEXT).status_code == 202
        customer.wait_for("messaging.Text")
        assert agent.post(f"/engagementCenter/interactions/{interaction}/disconnect").status_code == 202
        org.http.close()
    raw = server.log().splitlines()
    lines: list[dict[str, Any]] = [json.loads(line) for line in raw]  # fails on any line that is not JSON
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert line["time"].endswith("Z")
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access", "parley", "parley.lifecycle"} <= loggers, loggers
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert all(line["requestId"] for line in access)
    assert {line["requestId"] for line in access} == {line["requestId"] for line in access if line.get("status")}
    send = next(line for line in access if line["path"].endswith("/sendText"))
    assert (send["method"], send["status"], send["orgId"]) == ("POST", 202, "acme")
    events = {line.get("event"): line for line in lines if line["logger"] == "parley.lifecycle"}
    for event in ("interaction.created", "interaction.offered", "interaction.accepted", "interaction.ended"):
        assert events[event]["level"] == "info"
        assert events[event]["orgId"] == "acme" and events[event]["interactionId"] == interaction
    assert events["interaction.accepted"]["userId"] == agent.user_id
    assert events["interaction.accepted"]["requestId"]  # written while answering the accept
    whole = "\n".join(raw)
    for secret in (SECRET_TEXT, creds["clientSecret"], creds["apiKey"], org.token):
        assert secret not in whole
