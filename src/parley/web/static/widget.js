/*
 * Parley web chat widget.
 *
 *   <script src="https://chat.example.com/static/widget.js" data-org-id="acme" defer></script>
 *
 * adds a launcher button and a chat window to the page. Plain JavaScript, no build step, no
 * eval, no inline script or style: it runs under `script-src 'self'; style-src 'self'`.
 * The window lives in a shadow root so the host page's CSS cannot reach it. Every text that
 * comes from the network is written with textContent; links are created only for http(s) URLs.
 *
 * Events arrive on the customer's streaming session, read as Server-Sent Events through fetch
 * (EventSource cannot send the Authorization header) and resumed with Last-Event-ID, so a
 * dropped connection or a page reload continues after the last event seen, with nothing lost
 * and nothing twice. data-transport="poll" uses the long poll instead. The state needed to
 * resume (token, session, interaction, last sequence number, the conversation) is kept in
 * sessionStorage for the life of the web token.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.ParleyChat) return;

  // -- configuration --------------------------------------------------------------------------
  var data = script.dataset;
  var ORG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
  if (!data.orgId || !ORG_PATTERN.test(data.orgId)) {
    if (window.console) window.console.error("Parley chat: data-org-id is missing or not an organization id");
    return;
  }
  var scriptUrl = new URL(script.src, window.location.href);
  var config = {
    orgId: data.orgId,
    apiBase: (data.apiBase || scriptUrl.origin).replace(/\/+$/, ""),
    cssUrl: data.css || new URL("widget.css", scriptUrl).href,
    title: data.title || "Chat with us",
    subtitle: data.subtitle || "We typically reply in a few minutes",
    transport: data.transport === "poll" ? "poll" : "stream",
    position: data.position === "left" ? "left" : "right",
    askEmail: data.askEmail !== "false",
    accent: /^#[0-9a-fA-F]{3,8}$/.test(data.accent || "") ? data.accent : "",
    open: data.open === "true",
  };
  var API = config.apiBase + "/via/v2/organizations/" + encodeURIComponent(config.orgId);
  var STORE_KEY = "parley.chat." + config.orgId;

  var TYPING_EXPIRES = 10; // seconds, sent with every composing notification
  var TYPING_RENEW_MS = 9000; // the seed's rule: renew at least once every 9 s while typing
  var POLL_TIMEOUT = 25;
  var STALL_MS = 40000; // the server sends a keep-alive every 15 s
  var RENEW_MARGIN_MS = 300000; // renew a web token 5 minutes before it expires (or at 2/3 of a short life)
  var RENEW_RETRY_MS = 5000;
  var MAX_MESSAGES = 500;
  var MAX_SEEN = 2000;
  var URL_ONLY = /^[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/;
  var URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"]+/gi;
  var SESSION_GONE = { invalidSession: true, missingSession: true };

  // -- persisted state ------------------------------------------------------------------------
  function freshState() {
    return {
      v: 1,
      token: "",
      issued: 0,
      expiry: 0,
      sessionId: "",
      lastSeq: 0,
      catchUp: false, // read the transcript once the session that replaces a lost one is open
      interactionId: "",
      phase: "new", // new | waiting | active | ended
      name: "",
      email: "",
      agentName: "",
      messages: [],
      seen: [],
      outbox: [],
      open: false,
    };
  }

  var storage = null;
  try {
    storage = window.sessionStorage;
    storage.setItem(STORE_KEY + ".probe", "1");
    storage.removeItem(STORE_KEY + ".probe");
  } catch (e) {
    storage = null; // private mode or a sandboxed frame: keep the state in memory only
  }

  function loadState() {
    var s = null;
    try {
      s = storage && JSON.parse(storage.getItem(STORE_KEY) || "null");
    } catch (e) {
      s = null;
    }
    if (!s || s.v !== 1 || !s.token || s.expiry < Date.now() + 2000) return freshState();
    var base = freshState();
    Object.keys(base).forEach(function (k) {
      if (s[k] === undefined || typeof s[k] !== typeof base[k]) s[k] = base[k];
    });
    return s;
  }

  var state = loadState();
  var seen = new Set(state.seen);

  function save() {
    if (!storage) return;
    state.seen = Array.from(seen).slice(-MAX_SEEN);
    if (state.messages.length > MAX_MESSAGES) state.messages = state.messages.slice(-MAX_MESSAGES);
    try {
      storage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) {
      /* quota: the chat still works, it just will not survive a reload */
    }
  }

  // -- HTTP -----------------------------------------------------------------------------------
  function ApiError(status, body, retryAfter) {
    this.name = "ApiError";
    this.status = status;
    var first = body && body.errors && body.errors[0];
    this.reason = (first && first.reason) || "";
    this.message = (first && first.message) || (body && body.message) || "HTTP " + status;
    this.retryAfter = retryAfter;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function isTransient(err) {
    if (!(err instanceof ApiError)) return err && err.name !== "AbortError";
    return err.status === 429 || err.status >= 500;
  }

  function request(method, path, options) {
    options = options || {};
    var headers = { Accept: options.accept || "application/json" };
    if (options.auth !== false && state.token) headers.Authorization = "Bearer " + state.token;
    if (options.session !== false && state.sessionId) headers["via-client-sessionid"] = state.sessionId;
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    if (options.lastEventId !== undefined) headers["Last-Event-ID"] = String(options.lastEventId);
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit", signal: options.signal };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return window.fetch(API + path, init).then(function (res) {
      if (res.ok) return res;
      var retryAfter = parseInt(res.headers.get("Retry-After") || "", 10);
      return res.json().then(
        function (body) { throw new ApiError(res.status, body, retryAfter); },
        function () { throw new ApiError(res.status, null, retryAfter); }
      );
    });
  }

  function sleep(ms, signal) {
    return new Promise(function (resolve) {
      var timer = window.setTimeout(done, ms);
      function done() {
        window.clearTimeout(timer);
        window.removeEventListener("online", done);
        if (signal) signal.removeEventListener("abort", done);
        resolve();
      }
      window.addEventListener("online", done); // back online: try again at once
      if (signal) signal.addEventListener("abort", done);
    });
  }

  function backoff(attempt, retryAfter) {
    if (retryAfter > 0) return retryAfter * 1000;
    var ms = Math.min(8000, 500 * Math.pow(2, attempt));
    return ms / 2 + Math.random() * (ms / 2);
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // The web token and streaming session, each fetched once even when several calls need it.
  var pendingSession = null;

  // A web token lives an hour (by default). Well before it expires it is renewed with itself
  // as the credential: the new one names the same customer, so the streaming session and the
  // chat go on. Only a token that did expire (a tab asleep for too long) ends the chat.
  var pendingRenewal = null;
  var renewTimer = 0;

  function renewMargin() {
    return Math.min(RENEW_MARGIN_MS, (state.expiry - state.issued) / 3);
  }

  function tokenUsable() {
    return !!state.token && state.expiry > Date.now() + 2000;
  }

  function keepToken(body) {
    state.token = body.tokenId;
    state.issued = Date.now();
    state.expiry = Date.parse(body.expirationTime) || Date.now() + 3600000;
    save();
    scheduleRenewal();
  }

  function scheduleRenewal() {
    window.clearTimeout(renewTimer);
    if (!state.token || disposed) return;
    var due = Math.max(0, state.expiry - renewMargin() - Date.now());
    renewTimer = window.setTimeout(renewInBackground, due);
  }

  function renewInBackground() {
    renewToken().then(null, function () {}); // a failure retries or ends the chat by itself
  }

  function renewToken() {
    if (!pendingRenewal) {
      pendingRenewal = request("POST", "/webToken", { body: {}, session: false })
        .then(function (res) { return res.json(); })
        .then(keepToken, function (err) {
          if (err instanceof ApiError && err.status === 401) {
            if (chatOpen()) finish("This chat has expired");
          } else if (tokenUsable()) {
            window.clearTimeout(renewTimer); // offline or the server is busy: try again soon
            renewTimer = window.setTimeout(renewInBackground, RENEW_RETRY_MS);
          }
          throw err;
        })
        .finally(function () { pendingRenewal = null; });
    }
    return pendingRenewal;
  }

  function ensureToken() {
    if (state.token && state.expiry - renewMargin() > Date.now()) return Promise.resolve();
    if (tokenUsable()) return renewToken();
    return request("POST", "/webToken", { body: {}, auth: false, session: false })
      .then(function (res) { return res.json(); })
      .then(function (body) {
        state.sessionId = "";
        state.lastSeq = 0;
        keepToken(body);
      });
  }

  function ensureSession() {
    if (state.sessionId) return state.catchUp ? catchUp() : Promise.resolve();
    if (!pendingSession) {
      pendingSession = request("POST", "/publicChat/streaming/session", { body: {}, session: false })
        .then(function (res) { return res.json(); })
        .then(function (body) {
          state.sessionId = body.sessionId;
          state.lastSeq = 0; // sequence numbers are per session
          save();
          return state.catchUp ? catchUp() : null;
        })
        .finally(function () { pendingSession = null; });
    }
    return pendingSession;
  }

  // A lost session (idle too long, or the server lost its sessions, e.g. Redis restarted without
  // persistence) took with it whatever it had not handed out yet. Once the new session is open
  // (it gets everything from now on), the chat's transcript brings what came in between; what is
  // already shown is known by its message id, so nothing appears twice.
  function sessionLost() {
    state.sessionId = "";
    state.catchUp = true;
    save();
  }

  var pendingCatchUp = null;

  function catchUp() {
    if (!state.interactionId) {
      state.catchUp = false;
      return Promise.resolve();
    }
    if (!pendingCatchUp) {
      var path = "/publicChat/interactions/" + encodeURIComponent(state.interactionId) + "/transcript";
      pendingCatchUp = request("GET", path, {})
        .then(function (res) { return res.json(); })
        .then(function (body) {
          state.catchUp = false;
          (body.messages || []).forEach(function (m) {
            if (state.phase === "waiting" && m.entityType === "Agent") {
              handleEvent("engagementCenter.Active", { entityName: m.entityName, entityType: "Agent" }, "");
            }
            var p = Object.assign({ interactionId: state.interactionId }, m);
            handleEvent(typeof m.url === "string" ? "messaging.Url" : "messaging.Text", p, m.sentTime);
          });
          save();
        })
        .finally(function () { pendingCatchUp = null; });
    }
    return pendingCatchUp;
  }

  // A POST that is retried on network errors, 429 and 5xx (with the same Idempotency-Key, so
  // the server does it once) and on a lost streaming session (after opening a new one).
  function post(path, body, key, maxAttempts) {
    var attempt = 0;
    function tryOnce() {
      return ensureSession()
        .then(function () { return request("POST", path, { body: body, idempotencyKey: key }); })
        .catch(function (err) {
          if (err instanceof ApiError && err.status === 400 && SESSION_GONE[err.reason]) {
            sessionLost();
          } else if (!isTransient(err) || disposed) {
            throw err;
          }
          if (maxAttempts && attempt + 1 >= maxAttempts) throw err;
          return sleep(backoff(attempt++, err.retryAfter)).then(tryOnce);
        });
    }
    return tryOnce();
  }

  // -- DOM helpers ----------------------------------------------------------------------------
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === true) node.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function icon(paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICONS = {
    chat: ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"],
    close: ["M6 6l12 12", "M18 6L6 18"],
    down: ["M6 9l6 6 6-6"],
    send: ["M4 12l16-8-6 16-2-7z"],
  };

  function safeHttpUrl(raw) {
    try {
      var url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, label) {
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, [label]);
  }

  // Text with every http(s) URL in it made a link; everything else stays text.
  function richText(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_IN_TEXT, function (match, offset) {
      var trimmed = match.replace(/[.,;:!?)\]}'"]+$/, "");
      var href = safeHttpUrl(trimmed);
      if (!href) return match;
      if (offset > last) frag.appendChild(document.createTextNode(text.slice(last, offset)));
      frag.appendChild(link(href, trimmed));
      last = offset + trimmed.length;
      return match;
    });
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  function clock(ms) {
    try {
      return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return "";
    }
  }

  // -- the widget's DOM -----------------------------------------------------------------------
  var host = el("div", { id: "parley-chat", "data-parley-widget": "" });
  host.hidden = true; // until its stylesheet has loaded, so it never flashes unstyled
  var root = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: config.cssUrl });
  stylesheet.addEventListener("load", function () { host.hidden = false; });
  stylesheet.addEventListener("error", function () { host.hidden = false; });
  if (config.accent) host.style.setProperty("--parley-accent", config.accent); // CSSOM: allowed by CSP

  var ui = {};
  ui.launcherBadge = el("span", { class: "pw-badge", "aria-hidden": "true", hidden: true });
  ui.launcher = el(
    "button",
    { type: "button", class: "pw-launcher", "aria-controls": "pw-window", "aria-expanded": "false",
      "aria-label": "Open chat" },
    [icon(ICONS.chat), ui.launcherBadge]
  );

  ui.statusText = el("span", { class: "pw-status__text" }, [config.subtitle]);
  ui.status = el("p", { class: "pw-status", role: "status", "data-state": "idle" }, [
    el("span", { class: "pw-status__dot", "aria-hidden": "true" }),
    ui.statusText,
  ]);
  ui.endButton = el("button", { type: "button", class: "pw-header__end", hidden: true }, ["End chat"]);
  ui.closeButton = el("button", { type: "button", class: "pw-icon-button", "aria-label": "Close chat window" }, [
    icon(ICONS.down),
  ]);
  var header = el("header", { class: "pw-header" }, [
    el("div", { class: "pw-header__text" }, [el("h2", { id: "pw-title", class: "pw-title" }, [config.title]), ui.status]),
    el("div", { class: "pw-header__actions" }, [ui.endButton, ui.closeButton]),
  ]);

  // confirm bar for ending the chat
  ui.confirmEnd = el("button", { type: "button", class: "pw-button pw-button--danger" }, ["End chat"]);
  ui.keepChatting = el("button", { type: "button", class: "pw-button pw-button--ghost" }, ["Keep chatting"]);
  ui.confirm = el("div", { class: "pw-confirm", role: "group", "aria-labelledby": "pw-confirm-text", hidden: true }, [
    el("p", { id: "pw-confirm-text" }, ["End this chat?"]),
    el("div", { class: "pw-confirm__actions" }, [ui.keepChatting, ui.confirmEnd]),
  ]);

  // start form
  function field(id, label, input, hint) {
    return el("div", { class: "pw-field" }, [
      el("label", { for: id }, [label].concat(hint ? [el("span", { class: "pw-field__hint" }, [hint])] : [])),
      input,
    ]);
  }
  ui.name = el("input", { id: "pw-name", name: "name", type: "text", autocomplete: "name", required: true,
    maxlength: "100", "aria-describedby": "pw-form-error" });
  ui.email = el("input", { id: "pw-email", name: "email", type: "email", autocomplete: "email",
    maxlength: "254", "aria-describedby": "pw-form-error" });
  ui.formError = el("p", { id: "pw-form-error", class: "pw-error", role: "alert" });
  ui.startButton = el("button", { type: "submit", class: "pw-button pw-button--primary" }, ["Start chat"]);
  ui.form = el("form", { class: "pw-start", novalidate: true, "aria-labelledby": "pw-start-title" }, [
    el("h3", { id: "pw-start-title", class: "pw-start__title" }, ["Hello!"]),
    el("p", { class: "pw-start__intro" }, ["Tell us who you are and an agent will be with you shortly."]),
    field("pw-name", "Your name", ui.name),
    config.askEmail ? field("pw-email", "Email", ui.email, "optional") : null,
    ui.formError,
    ui.startButton,
  ].filter(Boolean));

  // conversation
  ui.log = el("div", { class: "pw-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "Conversation", tabindex: "0" });
  ui.typingText = el("span", { class: "pw-typing__text" });
  ui.typing = el("div", { class: "pw-typing", role: "status", hidden: true }, [
    el("span", { class: "pw-typing__dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
    ui.typingText,
  ]);
  ui.input = el("textarea", { id: "pw-input", class: "pw-composer__input", rows: "1", maxlength: "4096",
    placeholder: "Write a message…", "aria-label": "Message", enterkeyhint: "send" });
  ui.sendButton = el("button", { type: "submit", class: "pw-composer__send", "aria-label": "Send message" }, [
    icon(ICONS.send),
  ]);
  ui.composer = el("form", { class: "pw-composer", "aria-label": "Send a message" }, [ui.input, ui.sendButton]);
  ui.restart = el("button", { type: "button", class: "pw-button pw-button--primary" }, ["Start a new chat"]);
  ui.ended = el("div", { class: "pw-ended", hidden: true }, [ui.restart]);
  ui.conversation = el("div", { class: "pw-conversation", hidden: true }, [
    ui.log, ui.typing, ui.composer, ui.ended,
  ]);

  ui.window = el("section", { id: "pw-window", class: "pw-window", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "pw-title", hidden: true }, [
    header, ui.confirm, el("div", { class: "pw-body" }, [ui.form, ui.conversation]),
  ]);
  ui.frame = el("div", { class: "pw-root pw-root--" + config.position }, [ui.window, ui.launcher]);
  root.appendChild(stylesheet);
  root.appendChild(ui.frame);

  // -- rendering ------------------------------------------------------------------------------
  var rendered = new Map(); // message id -> element
  var unread = 0;

  function renderMessage(m) {
    var item;
    if (m.who === "system") {
      item = el("div", { class: "pw-notice" }, [m.body]);
    } else {
      var bubble = el("div", { class: "pw-msg__bubble" });
      var href = m.kind === "url" ? safeHttpUrl(m.body) : null;
      bubble.appendChild(href ? link(href, m.body) : richText(m.body));
      var meta = el("div", { class: "pw-msg__meta" }, [
        el("span", { class: "pw-msg__name" }, [m.who === "me" ? "You" : m.name || "Agent"]),
        el("time", { datetime: new Date(m.time).toISOString() }, [clock(m.time)]),
      ]);
      var stateLabel = el("span", { class: "pw-msg__state", "aria-live": "off" });
      item = el("div", { class: "pw-msg pw-msg--" + (m.who === "me" ? "me" : "agent") }, [meta, bubble, stateLabel]);
    }
    item.setAttribute("data-message-id", m.id);
    rendered.set(m.id, item);
    applyMessageState(m);
    return item;
  }

  function applyMessageState(m) {
    var item = rendered.get(m.id);
    if (!item || m.who !== "me") return;
    var label = item.querySelector(".pw-msg__state");
    var texts = { queued: "Sends when an agent joins", sending: "Sending…", failed: "Not sent" };
    item.setAttribute("data-status", m.status || "sent");
    label.textContent = texts[m.status] || "";
    label.hidden = !texts[m.status];
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function addMessage(m) {
    if (rendered.has(m.id)) return false;
    state.messages.push(m);
    ui.log.appendChild(renderMessage(m));
    scrollToEnd();
    if (m.who === "agent" && ui.window.hidden) {
      unread += 1;
      showUnread();
    }
    return true;
  }

  function notice(text) {
    addMessage({ id: "n-" + newKey(), who: "system", kind: "notice", body: text, time: Date.now() });
  }

  function findMessage(id) {
    for (var i = state.messages.length - 1; i >= 0; i--) if (state.messages[i].id === id) return state.messages[i];
    return null;
  }

  function renameMessage(m, id) {
    var item = rendered.get(m.id);
    rendered.delete(m.id);
    m.id = id;
    if (item) {
      item.setAttribute("data-message-id", id);
      rendered.set(id, item);
    }
  }

  function showUnread() {
    ui.launcherBadge.hidden = unread === 0;
    ui.launcherBadge.textContent = unread > 9 ? "9+" : String(unread);
    updateLauncherLabel();
  }

  function updateLauncherLabel() {
    var open = !ui.window.hidden;
    var label = open ? "Close chat" : "Open chat";
    if (!open && unread) label += ", " + unread + (unread === 1 ? " new message" : " new messages");
    ui.launcher.setAttribute("aria-label", label);
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.replaceChild(icon(open ? ICONS.down : ICONS.chat), ui.launcher.firstChild);
  }

  var CONNECTION_TEXT = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…" };
  var connection = "idle";

  var retries = 0; // consecutive failed connection attempts
  var sessionResets = 0; // consecutive sessions refused as invalid

  function setConnection(next) {
    if (next === "connected") retries = sessionResets = 0;
    connection = next;
    renderStatus();
  }

  function renderStatus() {
    var text = config.subtitle;
    var shown = connection;
    if (state.phase === "ended") {
      text = "Chat ended";
      shown = "ended";
    } else if (state.phase === "new") {
      shown = "idle";
    } else if (connection !== "connected") {
      text = CONNECTION_TEXT[connection] || text;
    } else if (state.phase === "waiting") {
      text = "Connected · Waiting for an agent";
    } else if (state.phase === "active") {
      text = "Connected · " + (state.agentName || "An agent");
    }
    ui.status.setAttribute("data-state", shown);
    if (ui.statusText.textContent !== text) ui.statusText.textContent = text;
  }

  function renderPhase() {
    var chatting = state.phase !== "new";
    ui.form.hidden = chatting;
    ui.conversation.hidden = !chatting;
    ui.composer.hidden = state.phase === "ended";
    ui.ended.hidden = state.phase !== "ended";
    ui.endButton.hidden = !(state.phase === "waiting" || state.phase === "active");
    if (ui.endButton.hidden) ui.confirm.hidden = true;
    ui.frame.setAttribute("data-phase", state.phase);
    renderStatus();
  }

  // -- typing: the agent's indicator ----------------------------------------------------------
  var typers = new Map(); // sender -> {name, timer}

  function renderTyping() {
    var names = Array.from(typers.values()).map(function (t) { return t.name; });
    ui.typing.hidden = names.length === 0;
    ui.typingText.textContent = names.length ? names.join(", ") + (names.length > 1 ? " are typing…" : " is typing…") : "";
    if (names.length) scrollToEnd();
  }

  function stopTyping(sender) {
    var t = typers.get(sender);
    if (!t) return;
    window.clearTimeout(t.timer);
    typers.delete(sender);
    renderTyping();
  }

  function startTyping(sender, name, seconds) {
    stopTyping(sender);
    var timer = window.setTimeout(function () { stopTyping(sender); }, Math.max(1, seconds || TYPING_EXPIRES) * 1000);
    typers.set(sender, { name: name || "Agent", timer: timer });
    renderTyping();
  }

  function clearTyping() {
    Array.from(typers.keys()).forEach(stopTyping);
  }

  // -- typing: the customer's own notifications -----------------------------------------------
  var lastComposing = 0;

  function customerTyped() {
    if (state.phase !== "active" || !ui.input.value.trim()) return;
    var now = Date.now();
    if (now - lastComposing < TYPING_RENEW_MS) return;
    lastComposing = now;
    var body = { interactionId: state.interactionId, state: "composing", expiresAfterSeconds: TYPING_EXPIRES };
    request("POST", "/publicChat/messaging/notification", { body: body }).catch(function () {
      lastComposing = 0; // try again on the next keystroke
    });
  }

  // -- incoming events ------------------------------------------------------------------------
  function handleEvents(events) {
    var changed = false;
    events.forEach(function (event) {
      if (event.eventType === "streaming.Reset") {
        // Events before oldestAvailable are gone from the session; nothing can fetch them.
        state.lastSeq = Math.max(state.lastSeq, (event.payload && event.payload.oldestAvailable - 1) || 0);
        changed = true;
        return;
      }
      if (typeof event.sequenceNumber === "number" && event.sequenceNumber > state.lastSeq) {
        state.lastSeq = event.sequenceNumber;
        changed = true;
      }
      // The same event has the same id in every session: a new session never repeats it.
      if (!event.eventId || seen.has(event.eventId)) return;
      seen.add(event.eventId);
      changed = true;
      handleEvent(event.eventType, event.payload || {}, event.eventTime);
    });
    if (changed) save();
  }

  function handleEvent(type, p, eventTime) {
    if (p.interactionId && p.interactionId !== state.interactionId) return;
    var sender = p.userId || p.entityType + ":" + p.entityName;
    switch (type) {
      case "engagementCenter.Active":
        if (p.entityType && p.entityType !== "Agent") return;
        state.agentName = p.entityName || "An agent";
        if (state.phase === "waiting") state.phase = "active";
        notice(state.agentName + " joined the chat");
        state.outbox.forEach(function (item) {
          var m = findMessage(item.localId);
          if (m && m.status === "queued") {
            m.status = "sending";
            applyMessageState(m);
          }
        });
        renderPhase();
        flushOutbox();
        return;
      case "engagementCenter.Disconnected":
        finish(p.disconnectedBy === "Contact" ? "You ended the chat" : "The chat has ended");
        return;
      case "messaging.Text":
      case "messaging.Url":
        received(type === "messaging.Url" ? "url" : "text", p, eventTime);
        if (p.entityType !== "Contact") stopTyping(sender);
        return;
      case "messaging.Notification":
        if (p.entityType === "Contact") return;
        if (p.state === "composing") startTyping(sender, p.entityName, p.expiresAfterSeconds);
        else stopTyping(sender);
        return;
      default:
        return;
    }
  }

  function received(kind, p, eventTime) {
    var id = p.messageId;
    if (!id || seen.has("m:" + id)) return;
    seen.add("m:" + id);
    var body = kind === "url" ? p.url : p.text;
    if (typeof body !== "string") return;
    var time = Date.parse(p.sentTime || eventTime) || Date.now();
    if (p.entityType === "Contact") {
      // Our own message, echoed. It is on screen already unless another tab sent it.
      if (rendered.has(id)) return;
      var mine = adoptPending(kind, body, id);
      if (mine) return;
      addMessage({ id: id, who: "me", kind: kind, body: body, time: time });
      return;
    }
    addMessage({ id: id, who: "agent", kind: kind, body: body, time: time, name: p.entityName });
  }

  // The echo can overtake the answer to our own POST; match it to the message being sent.
  function adoptPending(kind, body, id) {
    for (var i = 0; i < state.outbox.length; i++) {
      var item = state.outbox[i];
      if (item.kind === kind && item.body === body && !item.messageId) {
        item.messageId = id;
        var m = findMessage(item.localId);
        if (m) {
          renameMessage(m, id);
          item.localId = id;
          m.status = "sent";
          applyMessageState(m);
        }
        return true;
      }
    }
    return false;
  }

  // -- event transport ------------------------------------------------------------------------
  var running = false;
  var disposed = false;
  var controller = null;

  function readStream(res, signal, onEvent) {
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var stall = null;
    function armStall() {
      window.clearTimeout(stall);
      stall = window.setTimeout(function () {
        setConnection("reconnecting"); // silence past the keep-alives: the connection is dead
        reader.cancel().catch(function () {});
      }, STALL_MS);
    }
    function frame(text) {
      var dataLines = [];
      text.split("\n").forEach(function (line) {
        if (line.indexOf("data:") === 0) dataLines.push(line.slice(5).replace(/^ /, ""));
      });
      if (!dataLines.length) return;
      try {
        onEvent(JSON.parse(dataLines.join("\n")));
      } catch (e) {
        /* a frame that is not an event envelope */
      }
    }
    armStall();
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done || signal.aborted) {
          window.clearTimeout(stall);
          throw new Error("stream ended");
        }
        armStall();
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          frame(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
        return pump();
      });
    }
    return pump().finally(function () { window.clearTimeout(stall); });
  }

  function streamOnce(signal) {
    return request("GET", "/publicChat/streaming/events/stream", {
      signal: signal,
      accept: "text/event-stream",
      lastEventId: state.lastSeq,
    }).then(function (res) {
      setConnection("connected");
      return readStream(res, signal, function (event) { handleEvents([event]); });
    });
  }

  function pollOnce(signal) {
    // Until a poll has come back the connection is unproven: ask for an answer at once.
    // After the last event shown: a poll whose answer was lost is simply asked again.
    var query = "?maxEvents=100&after=" + state.lastSeq + "&timeout=" + (connection === "connected" ? POLL_TIMEOUT : 0);
    return request("GET", "/publicChat/streaming/events" + query, { signal: signal })
      .then(function (res) { return res.json(); })
      .then(function (body) {
        setConnection("connected");
        handleEvents(body.events || []);
      });
  }

  function chatOpen() {
    return !disposed && state.interactionId && (state.phase === "waiting" || state.phase === "active");
  }

  function run() {
    if (running || !chatOpen()) return;
    running = true;
    retries = 0;
    setConnection(connection === "connected" ? "connected" : "connecting");
    function loop() {
      if (!chatOpen()) {
        running = false;
        return null;
      }
      controller = new AbortController();
      var signal = controller.signal;
      var watchdog = window.setTimeout(function () { controller.abort(); }, (POLL_TIMEOUT + 15) * 1000);
      if (config.transport === "stream") window.clearTimeout(watchdog); // the stream has its own
      return ensureSession()
        .then(function () { return config.transport === "poll" ? pollOnce(signal) : streamOnce(signal); })
        .then(null, function (err) {
          if (!chatOpen()) return null;
          if (err instanceof ApiError && err.status === 400 && SESSION_GONE[err.reason]) {
            // Dropped (idle too long, or the server restarted): open another at once; the
            // server answered, so earlier network failures do not count. Only a session that
            // is refused again and again backs off.
            sessionLost();
            setConnection("reconnecting");
            retries = 0;
            return sleep(sessionResets++ ? backoff(sessionResets) : 0);
          }
          if (err instanceof ApiError && err.status === 401) {
            finish("This chat has expired");
            return null;
          }
          if (connection === "connected" && err.message === "stream ended") {
            return sleep(250); // the server closed an idle stream: reconnect without fuss
          }
          setConnection("reconnecting");
          return sleep(backoff(retries++, err.retryAfter));
        })
        .then(function () {
          window.clearTimeout(watchdog);
          return loop();
        });
    }
    loop();
  }

  window.addEventListener("offline", function () {
    if (controller) controller.abort();
    if (chatOpen()) setConnection("reconnecting");
  });

  // -- sending --------------------------------------------------------------------------------
  var flushing = false;

  function flushOutbox() {
    if (flushing || state.phase !== "active" || !state.outbox.length) return;
    flushing = true;
    var item = state.outbox[0];
    var isUrl = item.kind === "url";
    var body = { interactionId: state.interactionId };
    body[isUrl ? "url" : "text"] = item.body;
    post(isUrl ? "/publicChat/messaging/sendUrl" : "/publicChat/messaging/sendText", body, item.key)
      .then(function (res) {
        var id = res.headers.get("x-message-id");
        var m = findMessage(item.localId);
        if (id && m && m.id !== id) {
          if (rendered.has(id)) {
            // The echo won the race and was rendered on its own: keep one copy.
            var dup = rendered.get(m.id);
            if (dup) dup.remove();
            rendered.delete(m.id);
            state.messages.splice(state.messages.indexOf(m), 1);
          } else {
            renameMessage(m, id);
          }
        }
        if (id) seen.add("m:" + id);
        if (m) {
          m.status = "sent";
          applyMessageState(m);
        }
        state.outbox.shift();
        return true;
      }, function (err) {
        var m = findMessage(item.localId);
        if (err instanceof ApiError && err.status === 422 && err.reason === "notActive") {
          state.phase = "waiting";
          if (m) m.status = "queued";
        } else if (err instanceof ApiError && (err.status === 410 || err.status === 404)) {
          finish("The chat has ended");
        } else if (err instanceof ApiError && err.status === 401) {
          finish("This chat has expired");
        } else {
          state.outbox.shift();
          if (m) m.status = "failed";
        }
        if (m) applyMessageState(m);
        renderPhase();
        return state.phase === "active";
      })
      .then(function (more) {
        flushing = false;
        save();
        if (more) flushOutbox();
      });
  }

  function sendComposer() {
    var text = ui.input.value.trim();
    if (!text || !chatOpen()) return;
    var kind = URL_ONLY.test(text) && text.length <= 2048 && safeHttpUrl(text) ? "url" : "text";
    var key = newKey();
    var localId = "local-" + key;
    state.outbox.push({ key: key, kind: kind, body: text, localId: localId });
    addMessage({ id: localId, who: "me", kind: kind, body: text, time: Date.now(),
      status: state.phase === "active" ? "sending" : "queued" });
    ui.input.value = "";
    fitInput();
    lastComposing = 0; // the server turns our typing off when the text arrives
    save();
    flushOutbox();
  }

  function fitInput() {
    ui.input.style.height = "auto"; // CSSOM, allowed by style-src 'self'
    ui.input.style.height = Math.min(ui.input.scrollHeight, 132) + "px";
  }

  // -- chat lifecycle -------------------------------------------------------------------------
  function startChat(name, email) {
    ui.startButton.disabled = true;
    ui.formError.textContent = "";
    setConnection("connecting");
    var body = { contactName: name };
    if (email) body.contactEmail = email;
    var key = newKey();
    return ensureToken()
      .then(function () { return post("/publicChat/messaging/chat", body, key, 4); })
      .then(function (res) { return res.json(); })
      .then(function (started) {
        state.interactionId = started.interactionId;
        state.phase = "waiting";
        state.name = name;
        state.email = email;
        state.agentName = "";
        notice("Thanks, " + name + "! An agent will be with you shortly.");
        save();
        renderPhase();
        ui.input.focus();
        run();
      })
      .catch(function (err) {
        setConnection("idle");
        ui.formError.textContent =
          err instanceof ApiError && err.status === 404
            ? "Chat is not available for this site."
            : "We could not start the chat. Please check your connection and try again.";
      })
      .finally(function () { ui.startButton.disabled = false; });
  }

  function finish(text) {
    if (state.phase === "ended") return;
    state.phase = "ended";
    clearTyping();
    state.outbox.forEach(function (item) {
      var m = findMessage(item.localId);
      if (m) {
        m.status = "failed";
        applyMessageState(m);
      }
    });
    state.outbox = [];
    notice(text);
    save();
    if (controller) controller.abort();
    renderPhase();
    if (!ui.window.hidden) ui.restart.focus();
  }

  function endChat() {
    ui.confirm.hidden = true;
    if (!chatOpen()) return;
    ui.endButton.disabled = true;
    post("/publicChat/messaging/disconnect", { interactionId: state.interactionId }, newKey())
      .catch(function () { return null; }) // 410 (already over) or offline: it is over for us either way
      .then(function () {
        ui.endButton.disabled = false;
        finish("You ended the chat");
      });
  }

  function restart() {
    state.interactionId = "";
    state.phase = "new";
    state.agentName = "";
    state.messages = [];
    state.outbox = [];
    rendered.clear();
    ui.log.textContent = "";
    ui.name.value = state.name;
    ui.email.value = state.email;
    save();
    renderPhase();
    ui.name.focus();
  }

  // -- opening and closing --------------------------------------------------------------------
  function openWindow(focus) {
    ui.window.hidden = false;
    ui.frame.classList.add("pw-root--open");
    unread = 0;
    showUnread();
    state.open = true;
    save();
    scrollToEnd();
    if (focus) {
      if (state.phase === "new") ui.name.focus();
      else if (state.phase === "ended") ui.restart.focus();
      else ui.input.focus();
    }
  }

  function closeWindow() {
    ui.window.hidden = true;
    ui.frame.classList.remove("pw-root--open");
    ui.confirm.hidden = true;
    state.open = false;
    save();
    updateLauncherLabel();
    ui.launcher.focus();
  }

  ui.launcher.addEventListener("click", function () {
    if (ui.window.hidden) openWindow(true);
    else closeWindow();
  });
  ui.closeButton.addEventListener("click", closeWindow);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !ui.window.hidden) {
      event.preventDefault();
      if (!ui.confirm.hidden) {
        ui.confirm.hidden = true;
        ui.endButton.focus();
      } else {
        closeWindow();
      }
    }
  });
  ui.endButton.addEventListener("click", function () {
    ui.confirm.hidden = false;
    ui.keepChatting.focus();
  });
  ui.keepChatting.addEventListener("click", function () {
    ui.confirm.hidden = true;
    ui.input.focus();
  });
  ui.confirmEnd.addEventListener("click", endChat);
  ui.restart.addEventListener("click", restart);

  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = ui.name.value.trim();
    var email = config.askEmail ? ui.email.value.trim() : "";
    ui.name.removeAttribute("aria-invalid");
    ui.email.removeAttribute("aria-invalid");
    if (!name) {
      ui.formError.textContent = "Please enter your name.";
      ui.name.setAttribute("aria-invalid", "true");
      ui.name.focus();
      return;
    }
    if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      ui.formError.textContent = "Please enter a valid email address, or leave it empty.";
      ui.email.setAttribute("aria-invalid", "true");
      ui.email.focus();
      return;
    }
    startChat(name, email);
  });

  ui.composer.addEventListener("submit", function (event) {
    event.preventDefault();
    sendComposer();
  });
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendComposer();
    }
  });
  ui.input.addEventListener("input", function () {
    fitInput();
    customerTyped();
  });

  // -- start ----------------------------------------------------------------------------------
  function restore() {
    state.messages.forEach(function (m) { ui.log.appendChild(renderMessage(m)); });
    ui.name.value = state.name;
    ui.email.value = state.email;
    renderPhase();
    updateLauncherLabel();
    if (state.open || config.open) openWindow(false);
    scheduleRenewal();
    run();
    flushOutbox();
  }

  function mount() {
    document.body.appendChild(host);
    restore();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.ParleyChat = {
    open: function () { openWindow(true); },
    close: closeWindow,
    state: function () { return { phase: state.phase, connection: connection, interactionId: state.interactionId }; },
  };
})();
