// Chromium: Debian's chromium, headless, over the DevTools protocol (puppeteer-core). The
// Playwright suite covers Chromium in depth; this runs the cross-engine list there as well.
import { CHROMIUM, CHROMIUM_FLAGS } from "../../../bench/lib.mjs";
import { launch as launchPuppeteer } from "./puppeteer.mjs";

export const name = "chromium";

export function launch() {
  return launchPuppeteer({
    browser: "chrome",
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
  });
}
