// The authpulse demo: signs in against the reference server, then shows what the SDK does with
// the session. Everything the page knows about renewals and teardowns comes from auth.on(...)
// events; the countdowns are for display only.

const $ = (id) => document.getElementById(id);
const ACTIVITY_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];
const DEFAULT_TIMINGS = { accessTokenSecs: 300, idleTimeoutSecs: 900, sessionLifetimeSecs: 28800 };

const view = {
  auth: null,
  idleTimeoutMs: 0,
  lastActivity: Date.now(),
  warningDeadline: null, // set by 'idlewarning', cleared by 'active' and 'expired'
  tokenExpiresAt: null, // from 'renewed' events (or the sign-in response)
  renewals: 0,
  adminAllowed: true,
  signedIn: false,
};

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
    `(real defaults: 5 min, 15 min, 8 h).`;

  const sdk = await loadSdk();
  if (!sdk) return;

  view.idleTimeoutMs = timings.idleTimeoutSecs * 1000;
  try {
    view.auth = await sdk.createAuthClient({
      renewUrl: "/auth/renew",
      logoutUrl: "/auth/logout",
      idleTimeoutMs: view.idleTimeoutMs,
      warnBeforeIdleMs: Math.min(30_000, Math.floor(view.idleTimeoutMs / 4)),
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
    log("renewed", `New access token, valid for ${duration(expiresAt - Date.now())}.`, "ok");
    // Signed in from another tab of the demo (crossTab): show the session here too.
    if (!view.signedIn) enterSession();
  });
  auth.on("idlewarning", ({ expiresAt }) => {
    view.warningDeadline = expiresAt;
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
  $("signin").hidden = false;
  $("signin-message").textContent = message;
}

async function enterSession() {
  view.signedIn = true;
  view.lastActivity = Date.now();
  $("signin").hidden = true;
  $("session").hidden = false;
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

function render() {
  const auth = view.auth;
  if (!auth) return;
  const state = auth.state;
  const badge = $("state");
  badge.textContent = state;
  badge.className = `badge ${state}`;
  $("renewals").textContent = String(view.renewals);
  if (!view.signedIn) return;

  const now = Date.now();
  const idleDeadline = view.warningDeadline ?? view.lastActivity + view.idleTimeoutMs;
  $("idle-left").textContent = duration(idleDeadline - now);
  $("dialog-left").textContent = duration(idleDeadline - now);

  const tokenLeft = view.tokenExpiresAt === null ? null : view.tokenExpiresAt - now;
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
