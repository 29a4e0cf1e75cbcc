"""Webhook subscriptions over HTTP (contract 14): create, list, get, rotate, delete, deliveries,
and the contract's errors, on a server that allows only public https targets (the default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.server import Org

HOOK = {"url": "https://hooks.example.com/parley", "eventTypes": ["messaging.Text"], "description": "CRM"}


def create(org: Org, body: dict[str, Any]) -> Any:
    return org.http.post(org.base + "/webhooks", json=body, headers=org.headers())


def problem(r: Any) -> tuple[int, str, str]:
    (error,) = r.json()["errors"]
    return r.status_code, error["scope"], error["reason"]


def test_a_webhook_is_created_with_a_secret_shown_only_then(module_org: Org) -> None:
    r = create(module_org, HOOK)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_")
    assert (made["url"], made["eventTypes"], made["description"]) == (HOOK["url"], ["messaging.Text"], "CRM")
    webhook_id = made["webhookId"]

    listed = module_org.http.get(module_org.base + "/webhooks", headers=module_org.headers()).json()["webhooks"]
    one = module_org.http.get(f"{module_org.base}/webhooks/{webhook_id}", headers=module_org.headers())
    assert one.status_code == 200
    assert one.json() == {k: v for k, v in made.items() if k != "secret"}
    assert one.json() in listed
    assert all("secret" not in w for w in listed)


def test_rotating_gives_a_new_secret_and_deleting_removes_the_webhook(module_org: Org) -> None:
    made = create(module_org, {**HOOK, "eventTypes": ["*"]}).json()
    path = f"{module_org.base}/webhooks/{made['webhookId']}"

    rotated = module_org.http.post(path + "/rotateSecret", headers=module_org.headers())
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != made["secret"]
    deliveries = module_org.http.get(path + "/deliveries", params={"status": "failed"}, headers=module_org.headers())
    assert (deliveries.status_code, deliveries.json()) == (200, {"deliveries": []})

    assert module_org.http.delete(path, headers=module_org.headers()).status_code == 204
    assert problem(module_org.http.get(path, headers=module_org.headers())) == (404, "webhookId", "notFound")
    assert problem(module_org.http.delete(path, headers=module_org.headers())) == (404, "webhookId", "notFound")


@pytest.mark.parametrize(
    ("body", "scope", "reason"),
    [
        ({**HOOK, "url": "ftp://hooks.example.com/"}, "url", "invalidUrl"),
        ({**HOOK, "url": "http://hooks.example.com/"}, "url", "invalidUrl"),  # https only by default
        ({**HOOK, "url": "https://user:pw@hooks.example.com/"}, "url", "invalidUrl"),
        ({**HOOK, "url": "hooks.example.com/in"}, "url", "invalidUrl"),
        ({**HOOK, "url": "https://127.0.0.1/in"}, "url", "privateAddress"),
        ({**HOOK, "url": "https://10.1.2.3/in"}, "url", "privateAddress"),
        ({**HOOK, "url": "https://169.254.169.254/latest"}, "url", "privateAddress"),
        ({**HOOK, "url": "https://[::1]:8443/in"}, "url", "privateAddress"),
        ({**HOOK, "url": "https://[::ffff:192.168.0.1]/in"}, "url", "privateAddress"),
        ({**HOOK, "eventTypes": ["messaging.Txt"]}, "eventTypes", "unknownEventType"),
        ({**HOOK, "eventTypes": []}, "eventTypes", "invalidValue"),
    ],
)
def test_bad_targets_and_unknown_event_types_are_refused(
    module_org: Org, body: dict[str, Any], scope: str, reason: str
) -> None:
    r = create(module_org, body)
    assert r.status_code == 400, r.text
    assert {"scope": scope, "reason": reason} in [{k: e[k] for k in ("scope", "reason")} for e in r.json()["errors"]]


def test_another_organization_s_webhook_is_not_found(module_org: Org, new_org: Callable[[], Org]) -> None:
    theirs = create(module_org, HOOK).json()["webhookId"]
    other = new_org()
    path = f"{other.base}/webhooks/{theirs}"

    assert problem(other.http.get(path, headers=other.headers())) == (404, "webhookId", "notFound")
    assert problem(other.http.delete(path, headers=other.headers())) == (404, "webhookId", "notFound")
    assert problem(other.http.post(path + "/rotateSecret", headers=other.headers())) == (404, "webhookId", "notFound")
    retry = other.http.post(path + "/deliveries/dlv_x/retry", headers=other.headers())
    assert problem(retry) == (404, "webhookId", "notFound")
    assert other.http.get(other.base + "/webhooks", headers=other.headers()).json() == {"webhooks": []}
    mine = module_org.http.get(f"{module_org.base}/webhooks/{theirs}", headers=module_org.headers())
    assert mine.status_code == 200


def test_an_unknown_delivery_is_not_found(module_org: Org) -> None:
    made = create(module_org, HOOK).json()
    r = module_org.http.post(
        f"{module_org.base}/webhooks/{made['webhookId']}/deliveries/dlv_nope/retry", headers=module_org.headers()
    )
    assert problem(r) == (404, "deliveryId", "notFound")
