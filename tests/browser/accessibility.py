"""axe-core (from npm, installed by scripts/install-browser.sh) run inside a page, shadow roots included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "build" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
NEXT_FRAME = "() => new Promise(frame => requestAnimationFrame(() => requestAnimationFrame(frame)))"


def axe_violations(page: Page) -> list[str]:
    """The serious and critical violations axe-core finds on the page as it is now, one line each."""
    if not AXE.exists():
        raise AssertionError(f"axe-core is not installed ({AXE}): run scripts/install-browser.sh")
    # evaluate() runs from the debugger, so the page's Content-Security-Policy does not refuse it.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    # Colours are judged as they settle, not halfway through a fade-in: the widget drops its
    # animations for reduced motion.
    page.emulate_media(reduced_motion="reduce")
    page.evaluate(NEXT_FRAME)
    results: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
        f" ({v['nodes'][0].get('failureSummary', '')})"
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]
