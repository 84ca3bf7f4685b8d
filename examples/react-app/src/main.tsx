import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { AuthProvider } from "authpulse/react";
import { App } from "./App";

// StrictMode mounts, unmounts and mounts again in development: the provider still builds one
// client, and disposes it when it unmounts for good.
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <AuthProvider options={{ renewUrl: "/auth/renew", logoutUrl: "/auth/logout", logger: console }}>
      <App />
    </AuthProvider>
  </StrictMode>,
);
