"""/docs in Chromium: Swagger UI renders Parley's OpenAPI document under the page's CSP, and "try
it" calls the same server (contract 13)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from openapi_spec_validator import validate
from playwright.sync_api import Page, expect

from tests.browser.conftest import Problems
from tests.e2e.server import Org, ServerProcess

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "api-docs.png"


def test_the_openapi_document_is_valid_and_every_reference_resolves(server: ServerProcess) -> None:
    doc = httpx.get(server.base_url + "/openapi.json").json()
    validate(doc)  # openapi-spec-validator: the structure, and every $ref resolved
    schemas = set(doc["components"]["schemas"])
    text = httpx.get(server.base_url + "/openapi.json").text
    refs = {part.split('"')[0] for part in text.split('"$ref":"#/components/schemas/')[1:]}
    assert refs and refs <= schemas, refs - schemas


def test_the_docs_page_renders_every_operation_and_tries_one_against_the_server(
    server: ServerProcess, shop: Org, new_page: Callable[..., Page], problems: Problems
) -> None:
    page = new_page()
    response = page.goto(server.base_url + "/docs")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Parley")
    paths = httpx.get(server.base_url + "/openapi.json").json()["paths"]
    operations = sum(len(methods) for methods in paths.values())
    expect(page.locator(".opblock")).to_have_count(operations)  # one block per operation, none missing
    page.screenshot(path=str(SCREENSHOT))  # docs/api-docs.png, as the operations guide shows it
    web_token = page.locator("#operations-Public_Chat-postWebToken")
    web_token.locator(".opblock-summary").click()
    web_token.get_by_role("button", name="Try it out").click()
    web_token.locator('[data-param-name="orgId"] input').fill(shop.org_id)
    web_token.get_by_role("button", name="Execute").click()
    status = web_token.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200", timeout=10_000)
    expect(web_token.locator(".live-responses-table .microlight").first).to_contain_text("tokenId")
    assert problems.messages == []
