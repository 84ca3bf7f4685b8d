// The app: its own login form, then authpulse keeps the session (the provider resumed it with
// start() on load). It calls its API through client.fetch, asks an idle user to stay signed in,
// and signs out.
import { useEffect, useState, type FormEvent, type ReactElement } from "react";
import { useAuth } from "authpulse/react";

export function App(): ReactElement {
  const { client, loading, error, state } = useAuth();
  const [notice, setNotice] = useState("");
  const [result, setResult] = useState("");
  const [tokens, setTokens] = useState(0);

  useEffect(() => {
    if (!client) return;
    const off = [
      client.on("renewed", () => setTokens((n) => n + 1)),
      client.on("expired", ({ reason }) => setNotice(reason === "logout" ? "Signed out." : `Signed out (${reason}).`)),
    ];
    return () => off.forEach((unsubscribe) => unsubscribe());
  }, [client]);

  // An AuthError: wasm_load_failed and wasm_blocked say what to change.
  if (error) return <p role="alert">{String(error)}</p>;
  if (loading || !client) return <p>Loading…</p>;

  const signIn = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const response = await fetch("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
    });
    if (!response.ok) return setNotice(`Sign-in failed (${response.status}).`);
    client.setSession(await response.json());
    setNotice("");
  };
  const callApi = async () => {
    const response = await client.fetch("/api/me");
    setResult(`${response.status} ${await response.text()}`);
  };
  const signedIn = state === "active" || state === "warning";

  return (
    <main>
      <h1>authpulse · React</h1>
      <p>
        State: <output data-id="state">{state}</output>
      </p>
      <p data-id="notice" role="status">{notice}</p>
      {!signedIn && (
        <form data-id="login" onSubmit={signIn}>
          <label>
            User <input name="username" autoComplete="username" defaultValue="alice" />
          </label>
          <label>
            Password <input name="password" type="password" autoComplete="current-password" />
          </label>
          <button>Sign in</button>
        </form>
      )}
      {signedIn && (
        <section data-id="session">
          <button data-id="call" onClick={callApi}>
            Call /api/me
          </button>
          <pre data-id="result">{result}</pre>
          <p>
            Access tokens received (sign-in and renewals): <output data-id="tokens">{tokens}</output>
          </p>
          <button data-id="logout" onClick={() => client.logout()}>
            Sign out
          </button>
        </section>
      )}
      {state === "warning" && (
        <div data-id="stay" role="alertdialog">
          <p>You will be signed out soon for inactivity.</p>
          <button data-id="stay-button" onClick={() => client.touch()}>
            Stay signed in
          </button>
        </div>
      )}
    </main>
  );
}
