import { defineConfig } from "vitest/config";

// Unit tests in a DOM (jsdom): authpulse loads its WebAssembly module from node_modules by itself.
export default defineConfig({
  test: { environment: "jsdom", setupFiles: ["./src/test-setup.ts"] },
});
