"""The console for agents and supervisors (contract 12): one page, its script and style files.

Like the demo page it carries no inline script or style, so it runs under the same strict
Content-Security-Policy; everything it does goes through Parley's public API.
"""

from __future__ import annotations

CONSOLE_PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/console.css">
<script type="module" src="/static/console.js"></script>
</head>
<body>
<main id="signin" class="signin" hidden>
  <h1>Parley console</h1>
  <form id="signin-form" class="card" novalidate>
    <h2 id="signin-title">Sign in</h2>
    <label>Organization <input name="org" autocomplete="organization" required></label>
    <label>Email <input name="email" type="email" autocomplete="username" required></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <p id="signin-error" class="error" role="alert"></p>
    <button type="submit">Sign in</button>
  </form>
  <form id="invite-form" class="card" hidden novalidate>
    <h2>Choose a password</h2>
    <label>New password <input name="password" type="password" autocomplete="new-password" minlength="10"
      required></label>
    <p id="invite-error" class="error" role="alert"></p>
    <button type="submit">Set password</button>
  </form>
</main>
<div id="desk" class="desk" hidden>
  <header class="bar">
    <h1 class="brand">Parley</h1>
    <p id="who" class="who"></p>
    <label class="switch"><input id="ready" type="checkbox" role="switch"> Ready</label>
    <p id="state" class="state" aria-live="polite"></p>
    <label class="switch"><input id="alerts" type="checkbox"> Alert me when hidden</label>
    <button id="signout" type="button">Sign out</button>
  </header>
  <nav class="conversations" aria-label="Conversations">
    <h2>Conversations</h2>
    <ul id="conversation-list"></ul>
    <p id="no-conversations" class="muted">No conversations yet.</p>
  </nav>
  <main class="chat">
    <h2 id="chat-title">No conversation selected</h2>
    <div id="log" class="log" role="log" aria-label="Conversation"></div>
    <p id="typing" class="typing" aria-live="polite"></p>
    <p id="chat-ended" class="ended" hidden></p>
    <form id="composer" class="composer" hidden>
      <textarea id="message" aria-label="Message" rows="2"></textarea>
      <p id="sms-info" class="muted" aria-live="polite" hidden></p>
      <div class="row">
        <button type="submit">Send</button>
        <input id="link" type="url" aria-label="Link" placeholder="https://">
        <button id="send-link" type="button">Send link</button>
        <button id="transfer" type="button">Transfer</button>
        <button id="end" type="button">End chat</button>
      </div>
    </form>
    <form id="whisperer" class="composer" hidden>
      <textarea id="whisper" aria-label="Whisper" rows="2"></textarea>
      <div class="row">
        <button type="submit">Send whisper</button>
        <button id="stop-monitor" type="button">Stop monitoring</button>
      </div>
    </form>
  </main>
  <section id="supervisor" class="supervisor" aria-labelledby="supervisor-title" hidden>
    <h2 id="supervisor-title">Supervisor</h2>
    <h3 id="agents-title">Agents</h3>
    <table aria-labelledby="agents-title"><thead><tr><th scope="col">Name</th><th scope="col">State</th>
      <th scope="col">Since</th><th scope="col">Load</th></tr></thead><tbody id="agents"></tbody></table>
    <h3 id="queue-title">Queue</h3>
    <table aria-labelledby="queue-title"><thead><tr><th scope="col">Contact</th><th scope="col">Channel</th>
      <th scope="col">Waiting</th></tr></thead><tbody id="queue"></tbody></table>
    <h3 id="interactions-title">Interactions</h3>
    <table aria-labelledby="interactions-title"><thead><tr><th scope="col">Contact</th><th scope="col">Channel</th>
      <th scope="col">Agents</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
      <tbody id="interactions"></tbody></table>
  </section>
</div>
<dialog id="offer" aria-labelledby="offer-title" aria-describedby="offer-text">
  <h2 id="offer-title">Incoming chat</h2>
  <p id="offer-text"></p>
  <p id="offer-countdown" class="countdown"></p>
  <div class="row"><button id="accept" type="button">Accept</button>
    <button id="reject" type="button">Reject</button></div>
</dialog>
<dialog id="not-ready" aria-labelledby="not-ready-title">
  <form method="dialog">
    <h2 id="not-ready-title">Not ready</h2>
    <label>Reason <select id="reason">
      <option value="break">Break</option><option value="lunch">Lunch</option>
      <option value="meeting">Meeting</option><option value="training">Training</option>
      <option value="endOfShift">End of shift</option></select></label>
    <div class="row"><button value="ok">Set not ready</button><button value="cancel">Cancel</button></div>
  </form>
</dialog>
<dialog id="transfer-dialog" aria-labelledby="transfer-title">
  <form method="dialog">
    <h2 id="transfer-title">Transfer</h2>
    <label>Transfer to <select id="transfer-to"></select></label>
    <div class="row"><button value="ok">Transfer chat</button><button value="cancel">Cancel</button></div>
  </form>
</dialog>
</body>
</html>
"""
