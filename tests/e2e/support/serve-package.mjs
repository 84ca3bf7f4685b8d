// Serves the built npm package (pkg/) to a page on a fake origin through `page.route`, so the
// browser imports `index.js`, the wasm-bindgen glue and the .wasm as an app would, with no server.
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

/** The page's origin: every test page is `${ORIGIN}/`. */
export const ORIGIN = "http://app.authpulse.test";

const PKG = fileURLToPath(new URL("../../../pkg/", import.meta.url));
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

/**
 * Routes `${ORIGIN}/**`: `/` is an empty HTML page and `/pkg/<file>` the package's files (404 for
 * anything else); then opens `${ORIGIN}/`. Set up init scripts and the clock before calling it.
 */
export async function servePackage(page) {
  await page.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/") {
      return route.fulfill({ contentType: "text/html", body: "<!doctype html><title>pkg</title>" });
    }
    if (!path.startsWith("/pkg/")) return route.fulfill({ status: 404, body: "not found" });
    const file = normalize(join(PKG, decodeURIComponent(path.slice("/pkg/".length))));
    if (!file.startsWith(PKG)) return route.fulfill({ status: 404, body: "not found" });
    try {
      const body = await readFile(file);
      return route.fulfill({ contentType: TYPES[extname(file)] ?? "application/octet-stream", body });
    } catch {
      return route.fulfill({ status: 404, body: "not found" });
    }
  });
  await page.goto(`${ORIGIN}/`);
}
