import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The dev server forwards the auth and API routes to the auth server, so that the app, its
// renew endpoint and its API share one origin (and the session cookie), as in production.
const server = process.env.AUTHPULSE_SERVER ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/auth": server, "/api": server } },
});
