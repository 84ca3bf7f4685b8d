// Chromium: Debian's chromium, headless, over the DevTools protocol (puppeteer-core). The
// Playwright suite covers Chromium in depth; this runs the cross-engine list there as well.
import { launch as launchPuppeteer } from "./puppeteer.mjs";

export const name = "chromium";

export function launch() {
  return launchPuppeteer({
    browser: "chrome",
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
