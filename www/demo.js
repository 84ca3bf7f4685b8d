// The authpulse demo: signs in against the reference server, then shows what the SDK does with
// the session. Everything the page knows about renewals and teardowns comes from auth.on(...)
// events (and the SDK's getters, where the package has them); the countdowns and the chart are
// for display only.
import { createSessionChart } from "/chart.js";

const $ = (id) => document.getElementById(id);
const ACTIVITY_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];
const DEFAULT_TIMINGS = { accessTokenSecs: 300, idleTimeoutSecs: 900, sessionLifetimeSecs: 28800 };

const view = {
  auth: null,
  idleTimeoutMs: 0,
  warnBeforeMs: 0,
  lastActivity: Date.now(),
  warningDeadline: null, // set by 'idlewarning', cleared by 'active' and 'expired'
  tokenExpiresAt: null, // from 'renewed' events (or the sign-in response)
  renewals: 0,
  adminAllowed: true,
  signedIn: false,
};

// ---- what the page observes --------------------------------------------------------------

// The chart (created once the timings are known).
let chart = null;

// The page watches the answers to its own requests, the SDK's included (it calls window.fetch),
// for the chart: renewals, and API calls with their status (a 401 is followed by the SDK's one
// renewal and retry). It only records; the SDK decides.
const pageFetch = window.fetch.bind(window);
window.fetch = async function observedFetch(input, init) {
  const response = await pageFetch(input, init);
  try {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.origin === location.origin) observe(url.pathname, response.status);
  } catch {
    // Not a URL the page can read: nothing to draw.
  }
  return response;
};

function observe(path, status) {
  // start() on page load asks for a token before anyone signed in: no session to renew yet.
  if (path === "/auth/renew") {
    if (view.signedIn) chart?.recordRenewal(Date.now(), status);
  }
  else if (/^\/(api|account|demo)\//.test(path) && path !== "/demo/config") chart?.recordRequest(Date.now(), status);
}

// ---- timeline ----------------------------------------------------------------------------

function log(kind, text, tone = "info") {
  const item = document.createElement("li");
  item.className = tone;
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  const label = document.createElement("span");
  label.className = "kind";
  label.textContent = kind;
  const body = document.createElement("span");
  body.textContent = text;
  item.append(time, label, body);
  $("timeline").prepend(item);
}

function duration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function human(secs) {
  if (secs % 3600 === 0) return `${secs / 3600} h`;
  if (secs % 60 === 0) return `${secs / 60} min`;
  return `${secs} s`;
}

// ---- start-up ----------------------------------------------------------------------------

async function loadTimings() {
  try {
    const response = await fetch("/demo/config");
    if (response.ok) return { ...DEFAULT_TIMINGS, ...(await response.json()) };
  } catch {
    // Served by something other than the reference server: the SDK defaults still work.
  }
  return DEFAULT_TIMINGS;
}

async function loadSdk() {
  try {
    return await import("/pkg/index.js");
  } catch (error) {
    $("sdk-missing").hidden = false;
    log("error", `The SDK could not be loaded from /pkg/: ${error.message}`, "bad");
    return null;
  }
}

async function main() {
  const timings = await loadTimings();
  $("timings").textContent =
    `Server timings: access tokens ${human(timings.accessTokenSecs)}, ` +
    `idle timeout ${human(timings.idleTimeoutSecs)}, ` +
    `session at most ${human(timings.sessionLifetimeSecs)} ` +
    `(real defaults: 5 min, 15 min, 8 h)` +
    (timings.maxAuthAgeSecs ? `; sign in with your password at least every ${human(timings.maxAuthAgeSecs)}` : "") +
    (timings.maxAccessTokenSecs ? `; tokens longer than ${human(timings.maxAccessTokenSecs)} are refused.` : ".");

  const sdk = await loadSdk();
  if (!sdk) return;

  view.idleTimeoutMs = timings.idleTimeoutSecs * 1000;
  view.warnBeforeMs = Math.min(30_000, Math.floor(view.idleTimeoutMs / 4));
  // The last minutes on the left of now, the idle deadline ahead on its right.
  chart = createSessionChart($("chart"), () => ({
    pastMs: Math.min(2 * view.idleTimeoutMs, 30 * 60_000),
    futureMs: view.idleTimeoutMs + 15_000,
  }));
  try {
    view.auth = await sdk.createAuthClient({
      renewUrl: "/auth/renew",
      logoutUrl: "/auth/logout",
      idleTimeoutMs: view.idleTimeoutMs,
      warnBeforeIdleMs: view.warnBeforeMs,
    });
  } catch (error) {
    $("sdk-missing").hidden = false;
    log("error", `The SDK failed to start: ${error.message}`, "bad");
    return;
  }
  listen(view.auth);
  wireButtons();
  for (const type of ACTIVITY_EVENTS) {
    addEventListener(type, noteActivity, { capture: true, passive: true });
  }
  document.addEventListener("visibilitychange", noteActivity);
  setInterval(render, 250);

  let resumed = false;
  try {
    resumed = await view.auth.start();
  } catch (error) {
    log("error", `Could not resume: ${error.message}`, "warn");
  }
  if (resumed) {
    log("resumed", "Signed in from the session cookie (one renewal).", "ok");
    await enterSession();
  } else {
    showSignIn("");
  }
  render();
}

// The page's own view of activity, mirroring the SDK's rule (trusted events only) for the
// countdown; the SDK decides on its own. Other tabs of the demo tell theirs, as the SDK's
// tabs do, so that the countdown shows the shared deadline.
const demoTabs = typeof BroadcastChannel === "function" ? new BroadcastChannel("authpulse-demo") : null;
if (demoTabs) demoTabs.onmessage = ({ data }) => {
  if (typeof data === "number") view.lastActivity = Math.max(view.lastActivity, data);
};
let toldAt = 0;
function noteActivity(event) {
  if (!event.isTrusted) return;
  if (event.type === "visibilitychange" && document.visibilityState !== "visible") return;
  view.lastActivity = Date.now();
  chart?.recordInput(view.lastActivity);
  if (view.lastActivity - toldAt > 1000) demoTabs?.postMessage((toldAt = view.lastActivity));
}

// ---- SDK events --------------------------------------------------------------------------

const REASONS = {
  idle: () => `no activity for ${duration(view.idleTimeoutMs)}`,
  session: () => "the server refused the renewal: the session ended or was revoked",
  maxSession: () => "the maximum session length passed",
  logout: () => "you signed out",
  remote: () => "another tab signed out or timed out",
};

function listen(auth) {
  auth.on("renewed", ({ expiresAt }) => {
    view.tokenExpiresAt = expiresAt;
    view.renewals += 1;
    chart.recordToken(Date.now(), expiresAt);
    log("renewed", `New access token, valid for ${duration(expiresAt - Date.now())}.`, "ok");
    // Signed in from another tab of the demo (crossTab): show the session here too.
    if (!view.signedIn) enterSession();
    else loadDevices();
  });
  auth.on("idlewarning", ({ expiresAt }) => {
    view.warningDeadline = expiresAt;
    chart.recordWarning(Date.now(), expiresAt);
    log("idle warning", `Signing out in ${duration(expiresAt - Date.now())} unless you do something.`, "warn");
    if (!$("idle-dialog").open) $("idle-dialog").showModal();
  });
  auth.on("active", () => {
    view.warningDeadline = null;
    view.lastActivity = Date.now();
    log("active", "Activity: the warning is cancelled.", "info");
    $("idle-dialog").close();
  });
  auth.on("expired", ({ reason }) => {
    view.warningDeadline = null;
    view.tokenExpiresAt = null;
    chart.recordExpired(Date.now(), reason);
    $("idle-dialog").close();
    const why = (REASONS[reason] ?? (() => reason))();
    log("signed out", `Tokens torn down (${reason}): ${why}.`, "bad");
    showSignIn(`Signed out: ${why}.`);
  });
  auth.on("error", ({ code, message }) => {
    log("renew error", `${code}: ${message}. Keeping the current token and retrying with back-off.`, "warn");
  });
}

// ---- session view ------------------------------------------------------------------------

function showSignIn(message) {
  view.signedIn = false;
  $("session").hidden = true;
  $("devices").hidden = true;
  $("password").hidden = true;
  $("device-list").replaceChildren();
  $("signin").hidden = false;
  $("signin-message").textContent = message;
}

async function enterSession() {
  view.signedIn = true;
  view.lastActivity = Date.now();
  $("signin").hidden = true;
  $("session").hidden = false;
  $("chart-card").hidden = false;
  $("devices").hidden = false;
  $("password").hidden = false;
  $("password-message").textContent = "";
  loadDevices();
  if (view.tokenExpiresAt === null) view.tokenExpiresAt = await tokenExpiryForDisplay();
  const me = await call("GET", "/api/me");
  if (me?.username) {
    $("user").textContent = `${me.username} (${me.role})`;
    view.adminAllowed = me.adminAllowed;
    $("toggle-permission").textContent = view.adminAllowed ? "Remove my permission" : "Restore my permission";
  }
}

// Only for the display, and only once: the SDK computes expiry from expires_in, not from `exp`.
async function tokenExpiryForDisplay() {
  try {
    const token = await view.auth.getAccessToken();
    const payload = token && JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload?.exp ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

// The SDK's own deadlines where the package has the getters; else the page's estimate.
function idleDeadline(auth) {
  if (typeof auth.idleExpiresAt === "number") return auth.idleExpiresAt;
  return view.warningDeadline ?? view.lastActivity + view.idleTimeoutMs;
}

function tokenExpiry(auth) {
  return typeof auth.tokenExpiresAt === "number" ? auth.tokenExpiresAt : view.tokenExpiresAt;
}

function render() {
  const auth = view.auth;
  if (!auth) return;
  const state = auth.state;
  const badge = $("state");
  badge.textContent = state;
  badge.className = `badge ${state}`;
  $("renewals").textContent = String(view.renewals);
  const now = Date.now();
  const deadline = idleDeadline(auth);
  chart?.draw(now, {
    signedIn: view.signedIn,
    idleStart: deadline - view.idleTimeoutMs,
    idleDeadline: deadline,
    warnBeforeMs: view.warnBeforeMs,
  });
  if (!view.signedIn) return;

  $("idle-left").textContent = duration(deadline - now);
  $("dialog-left").textContent = duration(deadline - now);

  const expiresAt = tokenExpiry(auth);
  const tokenLeft = expiresAt === null ? null : expiresAt - now;
  $("token-left").textContent =
    tokenLeft === null ? "–" : tokenLeft > 0 ? `${duration(tokenLeft)} left` : "expired: renews on your next action";
}

// ---- actions -----------------------------------------------------------------------------

// One request through auth.fetch, logged with what came back. Returns the JSON body, if any.
async function call(method, path, body) {
  const renewalsBefore = view.renewals;
  const init = { method };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await view.auth.fetch(path, init);
  } catch (error) {
    log(`${method} ${path}`, `network error: ${error.message}`, "bad");
    return null;
  }
  const json = await response.json().catch(() => null);
  const renewed = view.renewals > renewalsBefore ? " A renewal happened during the call." : "";
  const detail = json?.error_description ?? summary(path, json) ?? response.statusText;
  const tone = response.ok ? "ok" : response.status === 403 ? "warn" : "bad";
  log(`${method} ${path}`, `${response.status} ${detail}.${renewed}`, tone);
  return response.ok ? json : null;
}

// A few words about a successful answer of the demo API.
function summary(path, json) {
  if (!json) return null;
  if (path === "/api/me") return `hello ${json.username} (${json.role})`;
  if (path === "/demo/permission") return `admin permission ${json.adminAllowed ? "restored" : "removed"}`;
  if (path === "/demo/revoke") return "session revoked on the server";
  return json.message ?? null;
}

function wireButtons() {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      await signIn(String(form.get("username")), String(form.get("password")));
    } finally {
      button.disabled = false;
    }
  });

  $("call-api").addEventListener("click", () => call("GET", "/api/me"));
  $("call-admin").addEventListener("click", () => call("GET", "/api/admin"));

  $("toggle-permission").addEventListener("click", async () => {
    const result = await call("POST", "/demo/permission", { allowed: !view.adminAllowed });
    if (!result) return;
    view.adminAllowed = result.adminAllowed;
    $("toggle-permission").textContent = view.adminAllowed ? "Remove my permission" : "Restore my permission";
    // A 403 is about permission, not the session: it passes through, with no renewal.
    await call("GET", "/api/admin");
  });

  $("revoke").addEventListener("click", async () => {
    const result = await call("POST", "/demo/revoke");
    if (!result) return;
    log("revoked", "The server ended the session. Calling the API: its 401 makes the SDK renew once; the renewal is refused, so it signs out.", "info");
    await call("GET", "/api/me");
  });

  $("logout").addEventListener("click", () => view.auth.logout());

  $("stay").addEventListener("click", () => {
    view.auth.touch();
    $("idle-dialog").close();
  });

  $("devices-refresh").addEventListener("click", () => loadDevices());

  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await changePassword(form.elements.current.value, form.elements.new.value);
      form.reset();
    } finally {
      button.disabled = false;
    }
  });
}

// ---- your devices ------------------------------------------------------------------------

// An account request through auth.fetch: { status, json } (json null if none), or null when the
// network failed (logged).
async function account(method, path, body) {
  const init = { method };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  try {
    const response = await view.auth.fetch(path, init);
    return { status: response.status, json: await response.json().catch(() => null) };
  } catch (error) {
    log(`${method} ${path}`, `network error: ${error.message}`, "bad");
    return null;
  }
}

let devicesLoading = null;

// Reloads the list. Quiet: called on every renewal, it logs only what goes wrong.
function loadDevices() {
  if (!view.signedIn || !view.auth) return Promise.resolve();
  devicesLoading ??= (async () => {
    try {
      const result = await account("GET", "/account/sessions");
      if (!result || !view.signedIn) return;
      if (result.status !== 200) {
        if (result.status !== 401) log("devices", `${result.status} ${result.json?.error_description ?? ""}`, "warn");
        return;
      }
      $("device-list").replaceChildren(...result.json.sessions.map(deviceItem));
    } finally {
      devicesLoading = null;
    }
  })();
  return devicesLoading;
}

function clock(ms) {
  const date = new Date(ms);
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  return date.toDateString() === new Date().toDateString() ? time : `${date.toLocaleDateString()} ${time}`;
}

function ago(ms) {
  const secs = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (secs < 60) return "just now";
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86_400) return `${Math.floor(secs / 3600)} h ago`;
  return clock(ms);
}

function deviceItem(session) {
  const item = document.createElement("li");
  item.className = session.current ? "device current" : "device";
  item.dataset.id = session.id;
  const name = document.createElement("button");
  name.type = "button";
  name.className = "device-name";
  name.title = "Rename this device";
  name.textContent = session.deviceName || "Unnamed device";
  name.addEventListener("click", () => startRename(item, name, session));
  const details = document.createElement("span");
  details.className = "device-details muted";
  details.textContent = `signed in ${clock(session.createdAt)} · last used ${ago(session.lastUsedAt)}`;
  item.append(name);
  if (session.current) {
    const badge = document.createElement("span");
    badge.className = "badge this-device";
    badge.textContent = "This device";
    item.append(badge);
  }
  item.append(details);
  if (!session.current) {
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "revoke danger";
    revoke.textContent = "Revoke";
    revoke.addEventListener("click", () => revokeDevice(session, revoke));
    item.append(revoke);
  }
  return item;
}

// Rename in place: the name becomes a text field; Enter (or leaving it) saves, Escape cancels.
function startRename(item, nameButton, session) {
  const input = document.createElement("input");
  input.className = "rename";
  input.value = session.deviceName;
  input.maxLength = 64;
  input.setAttribute("aria-label", "Device name");
  nameButton.replaceWith(input);
  input.focus();
  input.select();
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const wanted = input.value.trim();
    if (save && wanted && wanted !== session.deviceName) {
      const result = await account("PATCH", `/account/sessions/${encodeURIComponent(session.id)}`, { deviceName: wanted });
      if (result?.status === 200) log("renamed", `"${session.deviceName}" is now "${result.json.deviceName}".`, "ok");
      else if (result) log("rename", `${result.status} ${result.json?.error_description ?? ""}`, "warn");
    }
    await loadDevices();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

async function revokeDevice(session, button) {
  button.disabled = true;
  const result = await account("DELETE", `/account/sessions/${encodeURIComponent(session.id)}`);
  if (result?.status === 204) {
    log("revoked", `"${session.deviceName}" is signed out on the server: its next request or renewal gets 401, and its SDK signs out (reason session).`, "info");
  } else if (result) {
    log("revoke", `${result.status} ${result.json?.error_description ?? ""}`, "warn");
  }
  await loadDevices();
}

async function changePassword(current, next) {
  const message = $("password-message");
  message.textContent = "";
  message.className = "message";
  const result = await account("POST", "/account/password", { current_password: current, new_password: next });
  if (!result) return;
  if (result.status === 200) {
    const ended = result.json.sessionsEnded;
    message.className = "message ok";
    message.textContent = `Password changed. ${ended} other device${ended === 1 ? "" : "s"} signed out; this one stays signed in.`;
    log("password changed", `${ended} other session${ended === 1 ? "" : "s"} ended on the server; each signs out at its next request or renewal.`, "ok");
    await loadDevices();
  } else {
    message.textContent = result.json?.error_description ?? `The password was not changed (${result.status}).`;
    log("password", `${result.status} ${result.json?.error_description ?? ""}`, "warn");
  }
}

async function signIn(username, password) {
  $("signin-message").textContent = "";
  let response;
  try {
    // The app's own login: a plain fetch, then the token response is handed to the SDK.
    response = await fetch("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
  } catch (error) {
    $("signin-message").textContent = `The server did not answer: ${error.message}`;
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("signin-message").textContent = body.error_description ?? `Sign-in failed (${response.status}).`;
    return;
  }
  log("signed in", `As ${username}; the session cookie is HttpOnly, the token stays in the SDK's memory.`, "ok");
  // The session strategy renews with the cookie: the refresh token is not needed here.
  const { access_token, token_type, expires_in } = body;
  view.tokenExpiresAt = Date.now() + expires_in * 1000;
  view.auth.setSession({ access_token, token_type, expires_in });
  await enterSession();
}

main();
