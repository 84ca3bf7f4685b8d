// Compiles without an error: authpulse/react as an app writes it (React 19 types).
import { StrictMode, type ReactElement } from "react";
import { AuthProvider, useAuth, type AuthProviderProps, type AuthSnapshot } from "authpulse/react";
import { AuthClient, type AuthState } from "authpulse";

function Status(): ReactElement {
  const { client, loading, error, state, idleExpiresAt, tokenExpiresAt }: AuthSnapshot = useAuth();
  const s: AuthState = state;
  if (loading) return <p>Loading…</p>;
  if (error) return <p>{error.code}: {error.message}</p>;
  return (
    <div>
      <p>{s}</p>
      {state === "warning" && <button onClick={() => client?.touch()}>Stay signed in</button>}
      <p>{idleExpiresAt ?? "-"} {tokenExpiresAt ?? "-"}</p>
      <button onClick={() => client?.logout()}>Sign out</button>
    </div>
  );
}

const props: AuthProviderProps = { options: { renewUrl: "/auth/renew", logger: console }, start: false };

export function App({ given }: { given: AuthClient }): ReactElement {
  return (
    <StrictMode>
      <AuthProvider options={{ renewUrl: "/auth/renew", idleTimeoutMs: 60_000 }}>
        <Status />
      </AuthProvider>
      <AuthProvider {...props}>
        <Status />
      </AuthProvider>
      <AuthProvider client={given} start>
        <Status />
      </AuthProvider>
    </StrictMode>
  );
}
