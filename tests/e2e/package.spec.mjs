// The built npm package loads in Chromium as an app would import it: `index.js`, the
// wasm-bindgen glue and the .wasm, served over http with the wasm MIME type.
import { test, expect } from "@playwright/test";
import { servePackage } from "./support/serve-package.mjs";

test("the built package loads and builds a client through createAuthClient", async ({ page }) => {
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await servePackage(page);
  const result = await page.evaluate(async () => {
    const pkg = await import("/pkg/index.js");
    const auth = await pkg.createAuthClient({ renewUrl: "/auth/renew" });
    const again = await pkg.createAuthClient({});
    const state = auth.state;
    auth.dispose();
    again.dispose();
    return {
      exports: Object.keys(pkg).sort(),
      state,
      isClient: auth instanceof pkg.AuthClient,
    };
  });
  expect(errors).toEqual([]);
  expect(result.exports).toEqual(expect.arrayContaining(["AuthClient", "createAuthClient", "init"]));
  expect(result.state).toBe("signedOut");
  expect(result.isClient).toBe(true);
});

test("invalid options throw a TypeError that names the option", async ({ page }) => {
  await servePackage(page);
  const error = await page.evaluate(async () => {
    const { createAuthClient } = await import("/pkg/index.js");
    try {
      await createAuthClient({ idleTimeoutMs: -1 });
      return null;
    } catch (e) {
      return { name: e.name, message: e.message, isTypeError: e instanceof TypeError };
    }
  });
  expect(error).not.toBeNull();
  expect(error.isTypeError).toBe(true);
  expect(error.message).toContain("idleTimeoutMs");
});
