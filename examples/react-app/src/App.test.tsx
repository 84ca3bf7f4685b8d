// The app's unit tests with the real authpulse client under Vitest + jsdom, through
// <AuthProvider> in StrictMode: the network is a stub of the app's server (fetch) and time is
// Vitest's fake clock, so 15 idle minutes take no time.
import { StrictMode, act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { AuthProvider } from "authpulse/react";
import { App } from "./App";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
const MINUTE = 60_000;
const T0 = Date.parse("2030-01-07T09:00:00Z");

// The auth server and API: a session cookie stands for `signedIn`; tokens live 5 minutes.
let signedIn = false;
let issued = 0;
const seen: { path: string; authorization: string | null }[] = [];
const token = () => ({ access_token: `token-${++issued}`, token_type: "Bearer", expires_in: 300 });
async function server(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const path = new URL(request.url).pathname;
  seen.push({ path, authorization: request.headers.get("authorization") });
  if (path === "/auth/login") return (signedIn = true), Response.json(token());
  if (path === "/auth/renew") return signedIn ? Response.json(token()) : new Response(null, { status: 401 });
  if (path === "/auth/logout") return (signedIn = false), new Response(null, { status: 204 });
  if (path === "/api/me") return Response.json({ username: "alice" });
  return new Response(null, { status: 404 });
}

// The tab channels clients open (crossTab): one per client, closed when it is disposed.
const channels = { opened: 0, closed: 0 };
class CountedChannel extends BroadcastChannel {
  constructor(name: string) {
    super(name);
    channels.opened++;
  }
  close() {
    channels.closed++;
    super.close();
  }
}

let root: Root;
const $ = (id: string) => document.querySelector<HTMLElement>(`[data-id="${id}"]`);
const text = (id: string) => $(id)?.textContent;

async function render(): Promise<void> {
  await act(async () =>
    root.render(
      <StrictMode>
        <AuthProvider options={{ logoutUrl: "/auth/logout" }}>
          <App />
        </AuthProvider>
      </StrictMode>,
    ),
  );
  await vi.waitFor(() => expect($("state")).not.toBeNull());
}

async function click(id: string): Promise<void> {
  await act(async () => $(id)!.click());
}

async function signIn(): Promise<void> {
  document.querySelector<HTMLInputElement>("[name=password]")!.value = "alice";
  await act(async () => $("login")!.querySelector("button")!.click());
  await vi.waitFor(() => expect(text("state")).toBe("active"));
}

async function advance(ms: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

beforeEach(() => {
  signedIn = false;
  issued = 0;
  seen.length = 0;
  channels.opened = channels.closed = 0;
  vi.useFakeTimers({ now: T0 });
  vi.stubGlobal("fetch", vi.fn(server));
  vi.stubGlobal("BroadcastChannel", CountedChannel);
  root = createRoot(document.body.appendChild(document.createElement("div")));
});

afterEach(() => {
  act(() => root.unmount());
  document.body.textContent = "";
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

test("StrictMode mounts twice: one client, started once, disposed on unmount", async () => {
  await render();
  expect(text("state")).toBe("signedOut");
  expect(channels).toEqual({ opened: 1, closed: 0 });
  expect(seen.map((r) => r.path), "one start(): one renewal").toEqual(["/auth/renew"]);

  act(() => root.unmount());
  expect(channels).toEqual({ opened: 1, closed: 1 });
  root = createRoot(document.body.appendChild(document.createElement("div")));
});

test("signed out at first; the app's login signs in and its API calls carry the token", async () => {
  await render();
  await signIn();
  await click("call");
  await vi.waitFor(() => expect(text("result")).toBe('200 {"username":"alice"}'));
  expect(seen.find((r) => r.path === "/api/me")?.authorization).toBe("Bearer token-1");
});

test("an idle user is asked to stay at 14 minutes, and signed out at 15", async () => {
  await render();
  await signIn();
  await advance(14 * MINUTE);
  expect(text("state")).toBe("warning");
  expect($("stay")).not.toBeNull();

  await advance(MINUTE);
  expect(text("state")).toBe("expired");
  expect(text("notice")).toBe("Signed out (idle).");
  expect($("stay")).toBeNull();
});

test("'Stay signed in' keeps the session: the token is renewed at once and the warning goes", async () => {
  await render();
  await signIn();
  expect(text("tokens"), "the sign-in's token").toBe("1");
  await advance(14 * MINUTE);
  await click("stay-button");
  await vi.waitFor(() => expect(text("tokens")).toBe("2"));
  expect(seen.filter((r) => r.path === "/auth/renew")).toHaveLength(2); // start(), then this renewal
  expect(text("state")).toBe("active");
  expect($("stay")).toBeNull();
});

test("a reload with a live session resumes it: the provider's start() signs in", async () => {
  signedIn = true;
  await render();
  await vi.waitFor(() => expect(text("state")).toBe("active"));
  expect($("login")).toBeNull();
});
