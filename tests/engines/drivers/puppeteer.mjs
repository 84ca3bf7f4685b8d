// The browser through puppeteer-core: Firefox over WebDriver BiDi, Chromium over the DevTools
// protocol. Each scenario gets its own browser context (cookies and storage of its own), and
// each of its windows is a top-level window of that context, so every one stays visible.
import puppeteer from "puppeteer-core";

/** Launches the browser with puppeteer's `options`; resolves to the suite's Browser. */
export async function launch(options) {
  const browser = await puppeteer.launch({ headless: true, ...options });
  const version = await browser.version();
  return {
    version,
    async newContext() {
      const context = await browser.createBrowserContext();
      return {
        async newWindow() {
          return new PuppeteerWindow(await context.newPage({ type: "window" }));
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

class PuppeteerWindow {
  constructor(page) {
    this.page = page;
  }

  /**
   * Navigates to `url` and resolves once its document has loaded. (Not page.goto(): with Firefox
   * over BiDi, once a page was restored from the back/forward cache, puppeteer sees no later
   * navigation of that window complete, and times out.)
   */
  async goto(url) {
    // Navigation starts after the script returns. (No setTimeout: the page's clock may be fake.)
    await this.page.evaluate((u) => location.assign(u), url);
    const deadline = Date.now() + 30_000;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const loaded = await this.page
        .evaluate((u) => location.href === u && document.readyState === "complete", url)
        .catch(() => false); // the document is being replaced: ask again
      if (loaded) return;
      if (Date.now() > deadline) throw new Error(`${url} did not load within 30 s`);
    }
  }

  /**
   * Starts going back in the window's history; the caller waits for the page. (Not goBack():
   * with Firefox over BiDi it does not see a restore from the back/forward cache complete, and
   * times out.)
   */
  back() {
    return this.page.evaluate(() => history.back());
  }

  /** `fn(arg)` in the page, awaited; `arg` and the result are JSON values. */
  evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  pointerMove(x, y) {
    return this.page.mouse.move(x, y);
  }

  /** Presses and releases `key` ("Shift"). */
  press(key) {
    return this.page.keyboard.press(key);
  }
}
