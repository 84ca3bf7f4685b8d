// The app: its own login form, then authpulse keeps the session. It resumes on reload (start),
// calls its API through auth.fetch, asks an idle user to stay signed in, and signs out.
import type { AuthClient, AuthState } from "authpulse";

const TEMPLATE = `
  <h1>authpulse · vanilla TypeScript</h1>
  <p>State: <output data-id="state">loading</output></p>
  <p data-id="notice" role="status"></p>
  <form data-id="login" hidden>
    <label>User <input name="username" autocomplete="username" value="alice" /></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" /></label>
    <button>Sign in</button>
  </form>
  <section data-id="session" hidden>
    <button data-id="call">Call /api/me</button>
    <pre data-id="result"></pre>
    <p>Access tokens received (sign-in and renewals): <output data-id="tokens">0</output></p>
    <button data-id="logout">Sign out</button>
  </section>
  <div data-id="stay" role="alertdialog" hidden>
    <p>You will be signed out soon for inactivity.</p>
    <button data-id="stay-button">Stay signed in</button>
  </div>`;

/** Renders the app into `root` and wires it to `auth`; returns the function that removes it. */
export function mountApp(root: HTMLElement, auth: AuthClient): () => void {
  root.innerHTML = TEMPLATE;
  const $ = <T extends HTMLElement = HTMLElement>(id: string) => root.querySelector(`[data-id="${id}"]`) as T;
  let tokens = 0;

  const render = (state: AuthState) => {
    const signedIn = state === "active" || state === "warning";
    $("state").textContent = state;
    $("login").hidden = signedIn;
    $("session").hidden = !signedIn;
    $("stay").hidden = state !== "warning";
  };
  const off = [
    auth.on("statechange", ({ state }) => render(state)),
    auth.on("renewed", () => ($("tokens").textContent = String(++tokens))),
    auth.on("expired", ({ reason }) => {
      $("notice").textContent = reason === "logout" ? "Signed out." : `Signed out (${reason}).`;
    }),
  ];

  // The app's own login: a token response, handed to authpulse.
  $<HTMLFormElement>("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const response = await fetch("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
    });
    if (!response.ok) {
      $("notice").textContent = `Sign-in failed (${response.status}).`;
      return;
    }
    auth.setSession(await response.json());
    $("notice").textContent = "";
  });
  $("call").addEventListener("click", async () => {
    const response = await auth.fetch("/api/me");
    $("result").textContent = `${response.status} ${await response.text()}`;
  });
  $("stay-button").addEventListener("click", () => auth.touch());
  $("logout").addEventListener("click", () => void auth.logout());

  // After a reload the auth session cookie may still be good: one renewal tells.
  void auth.start().then(() => render(auth.state));
  return () => {
    for (const unsubscribe of off) unsubscribe();
    root.textContent = "";
  };
}
