// Firefox: Debian's firefox-esr, headless, over WebDriver BiDi (puppeteer-core).
import { launch as launchPuppeteer } from "./puppeteer.mjs";

export const name = "firefox";

export function launch() {
  return launchPuppeteer({
    browser: "firefox",
    executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
  });
}
