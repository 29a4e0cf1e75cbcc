"""The demo page: a small web site with the customer chat widget embedded by one script tag.

The page carries no inline script or style and is served with a strict Content-Security-Policy,
so it also proves the widget runs under one.
"""

from __future__ import annotations

from html import escape

DEFAULT_ORG = "demo"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PAGE_HEADERS = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-cache"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
]

DEMO_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Outfitters · Parley web chat demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/demo.css">
</head>
<body>
<header class="site-header">
  <a class="brand" href="/demo?org={org_attr}">Northwind <span>Outfitters</span></a>
  <nav aria-label="Main">
    <a href="#help">Help</a>
    <a href="#embed">Embed the chat</a>
    <a href="/docs">API</a>
  </nav>
</header>
<main>
  <section class="hero">
    <p class="eyebrow">Parley web chat demo</p>
    <h1>Gear for every trail, and people to help you pick it.</h1>
    <p class="lead">This page is an ordinary web site with Parley's chat widget on it. Press the
      chat button in the corner, give your name, and your chat waits in the
      <code>{org_text}</code> organization's queue for an agent.</p>
  </section>
  <section id="help" class="cards" aria-label="How to try it">
    <article class="card">
      <h2>1. Start a chat</h2>
      <p>Open the chat button at the bottom right. Keyboard users: Tab to it, press Enter;
        Escape closes the window again.</p>
    </article>
    <article class="card">
      <h2>2. Answer as an agent</h2>
      <p>Use the credentials printed by <code>scripts/run</code>: open a streaming session for a
        demo user, make it ready, accept the offer and send text. The README shows each call.</p>
    </article>
    <article class="card">
      <h2>3. Reload, go offline</h2>
      <p>Reload the page mid-chat or drop the network: the conversation comes back once, with
        nothing lost and nothing twice.</p>
    </article>
  </section>
  <section id="embed" class="embed">
    <h2>Put it on your own site</h2>
    <p>One tag, no build step. It works under a strict Content-Security-Policy like this page's.</p>
    <pre><code>&lt;script src="/static/widget.js" data-org-id="{org_text}" defer&gt;&lt;/script&gt;</code></pre>
  </section>
</main>
<footer class="site-footer">Served by Parley. A demo shop: nothing here is for sale.</footer>
<script src="/static/widget.js" data-org-id="{org_attr}" data-title="Northwind support"
  data-subtitle="Ask us anything about your order" defer></script>
</body>
</html>
"""


def render_demo(org_id: str) -> bytes:
    text = escape(org_id, quote=True)
    return DEMO_PAGE.format(org_attr=text, org_text=text).encode()
