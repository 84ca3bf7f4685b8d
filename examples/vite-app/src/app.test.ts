// The app's unit tests with the real authpulse client under Vitest + jsdom: the network is a stub
// of the app's server (fetch) and time is Vitest's fake clock, so 15 idle minutes take no time.
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { createAuthClient, type AuthClient } from "authpulse";
import { mountApp } from "./app";

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

let auth: AuthClient;
let unmount: () => void;
const $ = (id: string) => document.querySelector<HTMLElement>(`[data-id="${id}"]`)!;

async function mount(): Promise<void> {
  auth = await createAuthClient({ crossTab: false, logoutUrl: "/auth/logout" });
  unmount = mountApp(document.body, auth);
  await vi.waitFor(() => expect($("state").textContent).not.toBe("loading"));
}

async function signIn(): Promise<void> {
  $("login").querySelector<HTMLInputElement>("[name=password]")!.value = "alice";
  $("login").querySelector("button")!.click();
  await vi.waitFor(() => expect($("state").textContent).toBe("active"));
}

beforeEach(() => {
  signedIn = false;
  issued = 0;
  seen.length = 0;
  vi.useFakeTimers({ now: T0 });
  vi.stubGlobal("fetch", vi.fn(server));
});

afterEach(() => {
  unmount();
  auth.dispose();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

test("signed out at first; the app's login signs in and its API calls carry the token", async () => {
  await mount();
  expect($("state").textContent).toBe("signedOut");
  expect($("login").hidden).toBe(false);

  await signIn();
  $("call").click();
  await vi.waitFor(() => expect($("result").textContent).toBe('200 {"username":"alice"}'));
  expect(seen.find((r) => r.path === "/api/me")?.authorization).toBe("Bearer token-1");
});

test("an idle user is asked to stay at 14 minutes, and signed out at 15", async () => {
  await mount();
  await signIn();
  await vi.advanceTimersByTimeAsync(14 * MINUTE);
  expect($("stay").hidden).toBe(false);
  expect($("state").textContent).toBe("warning");

  await vi.advanceTimersByTimeAsync(MINUTE);
  expect($("state").textContent).toBe("expired");
  expect($("notice").textContent).toBe("Signed out (idle).");
  expect($("stay").hidden).toBe(true);
  expect(seen.filter((r) => r.path === "/auth/renew"), "an idle user's token is left to expire").toEqual([
    { path: "/auth/renew", authorization: null }, // start(), before sign-in
  ]);
});

test("'Stay signed in' keeps the session: the token is renewed at once and the warning goes", async () => {
  await mount();
  await signIn();
  expect($("tokens").textContent, "the sign-in's token").toBe("1");
  await vi.advanceTimersByTimeAsync(14 * MINUTE);
  $("stay-button").click();
  await vi.waitFor(() => expect($("tokens").textContent).toBe("2"));
  expect(seen.filter((r) => r.path === "/auth/renew")).toHaveLength(2); // start(), then this renewal
  expect($("state").textContent).toBe("active");
  expect($("stay").hidden).toBe(true);

  await vi.advanceTimersByTimeAsync(14 * MINUTE);
  expect($("state").textContent, "15 minutes after the click, not after sign-in").toBe("warning");
});

test("a reload with a live session resumes it without the login form", async () => {
  signedIn = true;
  await mount();
  expect($("state").textContent).toBe("active");
  expect($("login").hidden).toBe(true);
});
