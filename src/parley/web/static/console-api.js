/* Parley's public API as the console uses it: the sign-in cookie mints short user tokens, and
 * every other call is an ordinary agent application's (contract 12). */

const SESSION_KEY = "parley.console.stream";

export class ApiError extends Error {
  constructor(status, body) {
    const first = (body && body.errors && body.errors[0]) || {};
    super(first.message || (body && body.message) || "request failed (" + status + ")");
    this.status = status;
    this.reason = first.reason || "";
  }
}

async function answer(res) {
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, body);
  return { body: body, headers: res.headers };
}

export async function signIn(orgId, email, password) {
  const res = await fetch("/console/api/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ orgId: orgId, email: email, password: password }),
  });
  return (await answer(res)).body;
}

export async function acceptInvite(token, password) {
  const res = await fetch("/console/api/invite", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: token, password: password }),
  });
  return (await answer(res)).body;
}

export class Api {
  constructor() {
    this.me = null;
    this.token = "";
    this.apiKey = "";
    this.sessionId = "";
    this.cursor = 0;
    this.refresh = 0;
  }

  /* A fresh access token from the cookie; null when not signed in. */
  async mint() {
    const res = await fetch("/console/api/token", { method: "POST" });
    if (res.status === 401) return null;
    const body = (await answer(res)).body;
    this.me = body;
    this.token = body.accessToken;
    this.apiKey = body.apiKey;
    clearTimeout(this.refresh);
    this.refresh = setTimeout(() => this.mint().catch(() => {}), body.expiresIn * 800);
    return body;
  }

  async signOut() {
    clearTimeout(this.refresh);
    sessionStorage.removeItem(SESSION_KEY);
    await fetch("/console/api/session", { method: "DELETE" });
  }

  path(rest) {
    return "/via/v2/organizations/" + encodeURIComponent(this.me.orgId) + rest;
  }

  async call(method, rest, body, options) {
    const opts = options || {};
    for (let attempt = 0; ; attempt++) {
      const headers = { authorization: "Bearer " + this.token, "x-api-key": this.apiKey };
      if (this.sessionId && opts.session !== false) headers["via-client-sessionid"] = this.sessionId;
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(this.path(rest), {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: opts.signal,
      });
      if (res.status === 401 && attempt === 0) {
        await this.mint();
        continue;
      }
      return answer(res);
    }
  }

  get(rest, options) {
    return this.call("GET", rest, undefined, options).then((r) => r.body);
  }

  post(rest, body) {
    return this.call("POST", rest, body === undefined ? {} : body);
  }

  /* The streaming session of this tab: the one kept over a reload if it is still alive. */
  async openSession() {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.userId === this.me.userId) {
      this.sessionId = saved.sessionId;
      this.cursor = saved.cursor;
      try {
        await this.get("/streaming/events?maxEvents=1&timeout=0&after=" + this.cursor);
        return true;
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 400) throw e;
      }
    }
    const created = await this.call("POST", "/streaming/session", { userId: this.me.userId, inactivityDelay: 60 }, {
      session: false,
    });
    this.sessionId = created.body.sessionId;
    this.cursor = 0;
    this.save();
    return false;
  }

  save() {
    sessionStorage.setItem(
      SESSION_KEY,
      JSON.stringify({ userId: this.me.userId, sessionId: this.sessionId, cursor: this.cursor }),
    );
  }

  /* Long-polls from the cursor for ever; ``onEvent`` sees each event once, in order. */
  async stream(onEvent, signal) {
    let backoff = 500;
    while (!signal.aborted) {
      try {
        const batch = await this.get(
          "/streaming/events?maxEvents=100&timeout=25&after=" + this.cursor,
          { signal: signal },
        );
        backoff = 500;
        for (const event of batch.events) {
          if (event.eventType !== "streaming.Reset" && event.sequenceNumber <= this.cursor) continue;
          await onEvent(event);
          if (event.eventType !== "streaming.Reset") this.cursor = event.sequenceNumber;
        }
        this.save();
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && e.status === 400 && e.reason === "invalidSession") {
          await this.openSession();
          await onEvent({ eventType: "streaming.Reset", payload: {} });
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }
}
