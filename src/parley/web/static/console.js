/* The console: sign-in, the agent desktop and the supervisor view (contract 12). */

import { Api, ApiError, acceptInvite, signIn } from "./console-api.js";

const $ = (id) => document.getElementById(id);
const api = new Api();
const conversations = new Map(); // interactionId -> conversation
const ENDED_KEY = "parley.console.ended";
const MONITORING_KEY = "parley.console.monitoring";
let selected = null;
let offer = null;
let streaming = null;
let lastTyping = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function clock(iso) {
  const d = iso ? new Date(iso) : new Date();
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function stored(key) {
  return new Set(JSON.parse(sessionStorage.getItem(key) || "[]"));
}

function remember(key, id) {
  const ids = stored(key);
  ids.add(id);
  sessionStorage.setItem(key, JSON.stringify([...ids]));
}

/* -- sign-in ---------------------------------------------------------------------------------- */
function showSignIn() {
  $("desk").hidden = true;
  $("signin").hidden = false;
  const invite = new URLSearchParams(location.hash.slice(1)).get("invite");
  $("invite-form").hidden = !invite;
  $("signin-form").hidden = !!invite;
  const org = new URLSearchParams(location.search).get("org");
  if (org) $("signin-form").elements.org.value = org;
  (invite ? $("invite-form").elements.password : $("signin-form").elements.org).focus();
  performance.mark("console-interactive");
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target.elements;
  $("signin-error").textContent = "";
  try {
    await signIn(form.org.value.trim(), form.email.value.trim(), form.password.value);
    form.password.value = "";
    await start();
  } catch (e) {
    $("signin-error").textContent = e.message;
  }
});

$("invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = new URLSearchParams(location.hash.slice(1)).get("invite");
  try {
    const user = await acceptInvite(token, event.target.elements.password.value);
    history.replaceState(null, "", "/console?org=" + encodeURIComponent(user.orgId));
    showSignIn();
    $("signin-error").textContent = "Password set: sign in with it.";
  } catch (e) {
    $("invite-error").textContent = e.message;
  }
});

$("signout").addEventListener("click", async () => {
  if (streaming) streaming.abort();
  await api.signOut();
  sessionStorage.removeItem(ENDED_KEY);
  sessionStorage.removeItem(MONITORING_KEY);
  conversations.clear();
  location.reload();
});

/* -- the desktop -------------------------------------------------------------------------------- */
async function start() {
  const me = await api.mint();
  if (!me) return showSignIn();
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("who").textContent = me.preferredName;
  const resumed = await api.openSession();
  await loadOpen();
  if (!resumed) setReadyState(false, "");
  if (me.roles.includes("supervisor")) {
    $("supervisor").hidden = false;
    refreshSupervisor();
    setInterval(refreshSupervisor, 3000);
  } else {
    refreshOwnState();
  }
  streaming = new AbortController();
  api.stream(handle, streaming.signal);
  $("ready").focus();
  performance.mark("console-interactive"); // the first screen answers input from here (see docs/console.md)
}

async function refreshOwnState() {
  const users = (await api.get("/engagementCenter/users")).users;
  const mine = users.find((u) => u.userId === api.me.userId);
  if (mine) setReadyState(mine.state === "ready", mine.reasonId || "");
}

function setReadyState(ready, reason) {
  $("ready").checked = ready;
  $("state").textContent = ready ? "Ready for chats" : "Not ready" + (reason ? " (" + reason + ")" : "");
}

$("ready").addEventListener("change", async () => {
  if ($("ready").checked) {
    await api.post("/engagementCenter/users/" + api.me.userId + "/ready", { maxConcurrent: 3 });
    setReadyState(true, "");
  } else {
    $("ready").checked = true;
    $("not-ready").showModal();
  }
});

$("not-ready").addEventListener("close", async () => {
  if ($("not-ready").returnValue !== "ok") return;
  const reason = $("reason").value;
  await api.post("/engagementCenter/users/" + api.me.userId + "/notReady", { reasonId: reason });
  setReadyState(false, reason);
});

/* Open interactions of this user (after a reload): their transcripts, then live events. */
async function loadOpen() {
  const ended = stored(ENDED_KEY);
  const monitoring = stored(MONITORING_KEY);
  const page = await api.get("/engagementCenter/interactions?state=active&userId=" + api.me.userId);
  for (const record of page.interactions) {
    const id = record.interactionId;
    if (ended.has(id) || conversations.has(id)) continue;
    const c = addConversation(id, record.contactName, record.channelType, monitoring.has(id));
    await loadTranscript(c);
  }
}

async function loadTranscript(c) {
  const t = await api.get("/engagementCenter/interactions/" + c.id + "/transcript");
  for (const m of t.messages) addLine(c, m, false);
}

function addConversation(id, name, channel, monitoring) {
  const c = {
    id: id, name: name, channel: channel, monitoring: monitoring, ended: false, unread: 0,
    lines: new Map(), box: el("div"), typing: "", item: null,
  };
  const badge = el("span", { class: "unread", hidden: "" });
  const button = el("button", { type: "button", onclick: () => select(c) },
    el("span", { class: "name" }, name), el("span", { class: "channel" }, " · " + channel +
      (monitoring ? " · monitoring" : "")), badge);
  c.item = el("li", {}, button);
  c.badge = badge;
  c.button = button;
  $("conversation-list").append(c.item);
  $("no-conversations").hidden = true;
  conversations.set(id, c);
  if (monitoring) remember(MONITORING_KEY, id);
  if (!selected) select(c);
  return c;
}

function select(c) {
  selected = c;
  for (const other of conversations.values()) other.button.removeAttribute("aria-current");
  c.button.setAttribute("aria-current", "true");
  c.unread = 0;
  renderBadge(c);
  $("chat-title").textContent = c.name + " (" + c.channel + ")";
  $("log").replaceChildren(c.box);
  renderComposer();
}

function renderBadge(c) {
  c.badge.hidden = c.unread === 0;
  c.badge.textContent = c.unread ? String(c.unread) : "";
  c.badge.setAttribute("aria-label", c.unread + " unread");
}

function renderComposer() {
  const c = selected;
  $("typing").textContent = c ? c.typing : "";
  $("composer").hidden = !c || c.ended || c.monitoring;
  $("whisperer").hidden = !c || c.ended || !c.monitoring;
  $("chat-ended").hidden = !c || !c.ended;
  $("chat-ended").textContent = c && c.ended ? c.ended + " Read-only transcript." : "";
  $("sms-info").hidden = !c || c.channel !== "sms";
  if (c && c.channel === "sms") preview();
}

const KINDS = { Agent: "agent", Contact: "contact", Monitor: "whisper", System: "system" };

function addLine(c, m, live) {
  if (m.messageId && c.lines.has(m.messageId)) return;
  const kind = KINDS[m.entityType] || "system";
  const who = m.entityType === "Monitor" ? m.entityName + " (whisper)" : m.entityName;
  const body = m.url ? el("a", { href: m.url, rel: "noopener noreferrer", target: "_blank" }, m.url) : m.text;
  const tick = el("span", { class: "tick" });
  const line = el("p", { class: "line line--" + kind },
    el("span", { class: "who" }, who), " ", el("time", { datetime: m.sentTime || "" }, clock(m.sentTime)), " ",
    el("span", { class: "text" }, body), tick);
  if (m.messageId) c.lines.set(m.messageId, tick);
  c.box.append(line);
  if (c === selected) line.scrollIntoView({ block: "nearest" });
  if (live && c !== selected && kind !== "system") {
    c.unread += 1;
    renderBadge(c);
  }
}

function systemLine(c, text) {
  c.box.append(el("p", { class: "line line--system" }, el("time", {}, clock()), " ", text));
}

/* -- events ------------------------------------------------------------------------------------- */
async function handle(event) {
  const p = event.payload;
  const c = p.interactionId ? conversations.get(p.interactionId) : null;
  switch (event.eventType) {
    case "engagementCenter.Offered":
      return showOffer(p, event.eventTime);
    case "engagementCenter.AcceptCallTimeout":
      closeOffer(p.interactionId);
      return setReadyState(false, "offerTimeout");
    case "engagementCenter.Active":
      if (p.userId === api.me.userId && !c) {
        const name = offer && offer.interactionId === p.interactionId
          ? offer.contactName
          : (await api.get("/engagementCenter/interactions/" + p.interactionId)).contactName;
        closeOffer(p.interactionId);
        const added = addConversation(p.interactionId, name, p.channelType, p.entityType === "Monitor");
        select(added);
        await loadTranscript(added);
        $(p.entityType === "Monitor" ? "whisper" : "message").focus();
      } else if (c) {
        systemLine(c, p.entityName + (p.entityType === "Monitor" ? " is monitoring" : " joined"));
      }
      return;
    case "engagementCenter.Disconnected":
      closeOffer(p.interactionId);
      if (!c) return;
      if (p.reason === "monitorLeft" && !c.monitoring) return systemLine(c, "A supervisor stopped monitoring");
      c.ended = { transferred: "Transferred.", monitorLeft: "Monitoring stopped." }[p.reason] || "Chat ended.";
      c.typing = "";
      remember(ENDED_KEY, c.id);
      systemLine(c, c.ended);
      c.button.querySelector(".channel").textContent = " · " + c.channel + " · ended";
      if (c === selected) renderComposer();
      return;
    case "messaging.Text":
    case "messaging.Url":
      if (c) addLine(c, p, true);
      return;
    case "messaging.Notification":
      if (!c || p.userId === api.me.userId) return;
      c.typing = p.state === "composing" ? p.entityName + " is typing…" : "";
      if (c === selected) $("typing").textContent = c.typing;
      return;
    case "messaging.DeliveryStatus": {
      const tick = c && c.lines.get(p.messageId);
      if (tick) {
        tick.textContent = { sent: " ✓", delivered: " ✓✓", failed: " ✗" }[p.status] || "";
        tick.setAttribute("aria-label", p.status);
      }
      return;
    }
    case "streaming.Reset":
      await refreshOwnState(); // a new session after a lost one: the server has us not ready
      for (const conv of conversations.values()) {
        conv.lines.clear();
        conv.box.replaceChildren();
        await loadTranscript(conv);
      }
      return;
  }
}

/* -- alerts: a sound and a notification for an offer while the tab is hidden (the user's choice) */
const ALERTS_KEY = "parley.console.alerts";
$("alerts").checked = localStorage.getItem(ALERTS_KEY) === "on";
$("alerts").addEventListener("change", () => {
  localStorage.setItem(ALERTS_KEY, $("alerts").checked ? "on" : "off");
  if ($("alerts").checked && "Notification" in window && Notification.permission === "default") {
    Notification.requestPermission();
  }
});

function alertOffer(p) {
  if (!$("alerts").checked || !document.hidden) return;
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch (e) {
    /* no audio device: the notification still tells */
  }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("Incoming chat", { body: p.contactName + " · " + p.channelType, tag: p.interactionId });
  }
}

/* -- offers ------------------------------------------------------------------------------------- */
function showOffer(p, eventTime) {
  offer = p;
  const deadline = new Date(eventTime).getTime() + p.offerTimeoutSeconds * 1000;
  $("offer-text").textContent = p.contactName + " · " + p.channelType +
    (p.contactAddress ? " · " + p.contactAddress : "");
  const tickDown = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    $("offer-countdown").textContent = "Answer within " + left + " s";
  };
  tickDown();
  clearInterval(offer.timer);
  offer.timer = setInterval(tickDown, 1000);
  if (!$("offer").open) $("offer").showModal();
  $("accept").focus();
  alertOffer(p);
}

function closeOffer(id) {
  if (!offer || (id && offer.interactionId !== id)) return;
  clearInterval(offer.timer);
  if ($("offer").open) $("offer").close();
}

async function answerOffer(verb) {
  const o = offer;
  if (!o) return;
  try {
    await api.post("/engagementCenter/interactions/" + o.interactionId + "/" + verb, {
      ehubSessionId: o.ehubSessionId,
    });
  } catch (e) {
    $("state").textContent = e.message;
  }
  if (verb === "reject") closeOffer(o.interactionId);
}

$("accept").addEventListener("click", () => answerOffer("accept"));
$("reject").addEventListener("click", () => answerOffer("reject"));
$("offer").addEventListener("cancel", (event) => event.preventDefault());

/* -- sending -------------------------------------------------------------------------------------- */
function messageBody(c, extra, entityType) {
  return Object.assign(
    { interactionId: c.id, entityName: api.me.preferredName, entityType: entityType || "Agent" }, extra);
}

async function send(path, extra, entityType) {
  const c = selected;
  try {
    await api.post("/messaging/users/" + api.me.userId + path, messageBody(c, extra, entityType));
    return true;
  } catch (e) {
    systemLine(c, "Not sent: " + e.message);
    return false;
  }
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("message").value;
  if (!text.trim()) return;
  $("message").value = "";
  if (!(await send("/sendText", { text: text }))) $("message").value = text;
  preview();
});

$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("message").addEventListener("input", () => {
  const now = Date.now();
  if (selected && !selected.ended && now - lastTyping >= 1000 && $("message").value.trim()) {
    lastTyping = now;
    send("/notification", { state: "composing", expiresAfterSeconds: 5 });
  }
  if (selected && selected.channel === "sms") preview();
});

$("send-link").addEventListener("click", async () => {
  const url = $("link").value.trim();
  if (url && (await send("/sendUrl", { url: url }))) $("link").value = "";
});

let previewing = 0;
async function preview() {
  const text = $("message").value;
  const mine = ++previewing;
  if (!text) {
    $("sms-info").textContent = "SMS: 0 segments";
    return;
  }
  try {
    const r = (await api.post("/messaging/sms/preview", { text: text })).body;
    if (mine !== previewing) return;
    const forcing = r.charactersForcingUcs2.length ? " (because of " + r.charactersForcingUcs2.join(" ") + ")" : "";
    $("sms-info").textContent = "SMS: " + r.encoding + forcing + ", " + r.characters + " characters, " +
      r.segments + (r.segments === 1 ? " segment" : " segments");
  } catch (e) {
    $("sms-info").textContent = "SMS: " + e.message;
  }
}

$("end").addEventListener("click", () =>
  api.post("/engagementCenter/interactions/" + selected.id + "/disconnect").catch((e) => systemLine(selected, e.message)));

$("transfer").addEventListener("click", async () => {
  const users = (await api.get("/engagementCenter/users?state=ready")).users;
  const options = [el("option", { value: "" }, "Back to the queue")];
  for (const u of users) {
    if (u.userId !== api.me.userId && u.load < u.maxConcurrent) options.push(el("option", { value: u.userId }, u.preferredName));
  }
  $("transfer-to").replaceChildren(...options);
  $("transfer-dialog").showModal();
});

$("transfer-dialog").addEventListener("close", async () => {
  if ($("transfer-dialog").returnValue !== "ok" || !selected) return;
  const to = $("transfer-to").value;
  try {
    await api.post("/engagementCenter/interactions/" + selected.id + "/transfer", to ? { userId: to } : {});
  } catch (e) {
    systemLine(selected, "Not transferred: " + e.message);
  }
});

/* -- supervisor ------------------------------------------------------------------------------------ */
$("whisperer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("whisper").value;
  if (!text.trim()) return;
  $("whisper").value = "";
  if (!(await send("/sendText", { text: text }, "Monitor"))) $("whisper").value = text;
});

$("whisper").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("whisperer").requestSubmit();
  }
});

$("stop-monitor").addEventListener("click", () =>
  api.post("/engagementCenter/interactions/" + selected.id + "/disconnect").catch((e) => systemLine(selected, e.message)));

function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min";
}

function cells(...values) {
  return el("tr", {}, ...values.map((v) => el("td", {}, v)));
}

async function refreshSupervisor() {
  try {
    const [users, queued, offered, active] = await Promise.all([
      api.get("/engagementCenter/users"),
      api.get("/engagementCenter/interactions?state=queued"),
      api.get("/engagementCenter/interactions?state=offered"),
      api.get("/engagementCenter/interactions?state=active"),
    ]);
    const names = new Map(users.users.map((u) => [u.userId, u.preferredName]));
    const mine = users.users.find((u) => u.userId === api.me.userId);
    if (mine && document.activeElement !== $("ready")) setReadyState(mine.state === "ready", mine.reasonId || "");
    $("agents").replaceChildren(...users.users.map((u) => cells(u.preferredName,
      u.state === "ready" ? "Ready" : "Not ready" + (u.reasonId ? " (" + u.reasonId + ")" : ""),
      since(u.since), u.load + " / " + u.maxConcurrent)));
    $("queue").replaceChildren(...[...queued.interactions, ...offered.interactions]
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime))
      .map((i) => cells(i.contactName, i.channelType, since(i.createdTime))));
    $("interactions").replaceChildren(...active.interactions.map((i) => {
      const monitoring = conversations.has(i.interactionId);
      const actions = el("span", {},
        el("button", { type: "button", "aria-label": "Monitor " + i.contactName, disabled: monitoring ? "" : null,
          onclick: () => api.post("/engagementCenter/interactions/" + i.interactionId + "/monitor") }, "Monitor"),
        " ",
        el("button", { type: "button", "aria-label": "End chat with " + i.contactName,
          onclick: () => api.post("/engagementCenter/interactions/" + i.interactionId + "/disconnect") }, "End"));
      return cells(i.contactName, i.channelType, i.userIds.map((u) => names.get(u) || u).join(", "),
        since(i.acceptedTime || i.createdTime), actions);
    }));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
}

start().catch((e) => {
  showSignIn();
  $("signin-error").textContent = e.message;
});
