// The live demo page (www/) against the reference server: sign in, call the API, see a 403 pass
// through, and keep a screenshot of the signed-in page (target/screenshots/demo-signed-in.png).
import { test, expect } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startServer } from "./support/server.mjs";

const SHOTS = join(ROOT, "target", "screenshots");

test("the demo page signs in, shows the live session, and a 403 passes through", async ({ page }) => {
  const server = await startServer(["--www", join(ROOT, "www"), "--access-token-secs", "60", "--idle-timeout-secs", "180"]);
  try {
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(server.url + "/");
    await expect(page.locator("#sdk-missing")).toBeHidden();
    await page.locator("#signin-form button[type=submit]").click();
    await expect(page.locator("#state")).toHaveText("active");
    await expect(page.locator("#user")).toContainText("alice");
    await expect(page.locator("#idle-left")).not.toHaveText("");

    await page.locator("#call-api").click();
    await expect(page.locator("#timeline")).toContainText("200");
    await server.call("POST", "/test/log/clear"); // start() on page load tried a renewal
    await page.locator("#toggle-permission").click();
    await page.locator("#call-admin").click();
    await expect(page.locator("#timeline")).toContainText("403");
    await expect(page.locator("#state")).toHaveText("active"); // a 403 is not a sign-out

    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, "demo-signed-in.png"), fullPage: true });

    const log = await server.call("GET", "/test/log");
    const admin = log.requests.filter((r) => r.path === "/api/admin");
    expect(admin.map((r) => r.status)).toContain(403);
    expect(log.renewals.total, "a 403 causes no renewal").toBe(0);
    expect(errors).toEqual([]);
  } finally {
    await server.stop();
  }
});
