// WebKit: Debian's WebKitGTK (webkit2gtk-driver: WebKitWebDriver driving MiniBrowser), over W3C
// WebDriver (the classic HTTP protocol; the few commands used are spoken directly). MiniBrowser
// has no headless mode: it needs an X display (run under `xvfb-run -a`), and without one the
// new-session request hangs, so that is checked first. Each scenario gets its own session, so
// its own browser process with a fresh profile; windows are W3C `New Window` ones (window.open
// would reuse the same window in MiniBrowser).
import { spawn } from "node:child_process";
import { createServer } from "node:net";

export const name = "webkit";

const DRIVER = process.env.WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver";
const KEYS = { Shift: "\uE008" };
const CALL_TIMEOUT_MS = 60_000;

export async function launch() {
  if (!process.env.DISPLAY) {
    throw new Error("WebKitGTK needs an X display: run the suite under `xvfb-run -a`");
  }
  const port = await freePort();
  // In a process group of its own, so that stopping it stops the browsers it started too
  // (killing the driver alone leaves them running, and xvfb-run then does not finish).
  const driver = spawn(DRIVER, [`--port=${port}`, "--host=local"], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  const stderr = [];
  driver.stderr.setEncoding("utf8").on("data", (chunk) => stderr.push(chunk));
  const exited = new Promise((resolve) => driver.once("exit", resolve));
  const stop = () => {
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.once("exit", stop); // the driver outlives no run, however it ends
  const wire = new Wire(`http://127.0.0.1:${port}`);
  const started = Date.now();
  for (;;) {
    try {
      await wire.call("GET", "/status");
      break;
    } catch (error) {
      if (driver.exitCode !== null || Date.now() - started > 10_000) {
        stop();
        throw new Error(`WebKitWebDriver did not start: ${error.message} ${stderr.join("")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let version = "";
  return {
    get version() {
      return version;
    },
    async newContext() {
      const session = await Session.open(wire);
      version = `WebKitGTK ${session.browserVersion}`;
      return session;
    },
    async close() {
      process.removeListener("exit", stop);
      stop();
      await exited;
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

class Wire {
  constructor(base) {
    this.base = base;
  }

  async call(method, path, body) {
    const response = await fetch(this.base + path, {
      method,
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      headers: { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (value?.error) throw new Error(`WebDriver ${method} ${path}: ${value.error}: ${value.message}`);
    return value;
  }
}

/** One WebDriver session: a MiniBrowser process; its windows are the scenario's. */
class Session {
  static async open(wire) {
    const { sessionId, capabilities } = await wire.call("POST", "/session", {
      capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { args: ["--automation"] } } },
    });
    const session = new Session(wire, sessionId, capabilities.browserVersion);
    // No script timeout: WebKit measures it with the page's setTimeout, which the fake clock
    // drives, so a step of the clock longer than the timeout would end the script. A real-time
    // bound is kept on the call instead (Wire.call).
    await session.call("POST", "/timeouts", { script: null, pageLoad: 30_000 });
    session.current = await session.call("GET", "/window");
    session.spare = session.current; // the window the session opened with, used first
    return session;
  }

  constructor(wire, id, browserVersion) {
    this.wire = wire;
    this.id = id;
    this.browserVersion = browserVersion;
  }

  call(method, path, body) {
    return this.wire.call(method, `/session/${this.id}${path}`, body);
  }

  /** Makes `handle` the window later commands go to. */
  async use(handle) {
    if (this.current !== handle) {
      await this.call("POST", "/window", { handle });
      this.current = handle;
    }
  }

  async newWindow() {
    let handle = this.spare;
    this.spare = null;
    if (!handle) ({ handle } = await this.call("POST", "/window/new", { type: "window" }));
    return new WebDriverWindow(this, handle);
  }

  async close() {
    await this.call("DELETE", "");
  }
}

class WebDriverWindow {
  constructor(session, handle) {
    this.session = session;
    this.handle = handle;
  }

  async command(method, path, body) {
    await this.session.use(this.handle);
    return this.session.call(method, path, body);
  }

  goto(url) {
    return this.command("POST", "/url", { url });
  }

  /**
   * Goes back in the window's history; resolves once the page is there. (Scripts sent while the
   * window navigates may not be answered until the call's timeout.)
   */
  back() {
    return this.command("POST", "/back", {});
  }

  /** `fn(arg)` in the page, awaited; `arg` and the result are JSON values. */
  async evaluate(fn, arg) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve(arguments[0]).then(${fn}).then(
        (value) => done({ value }),
        (error) => done({ error: String(error && error.stack ? error + "\\n" + error.stack : error) }));`;
    const result = await this.command("POST", "/execute/async", { script, args: [arg ?? null] });
    if (result?.error) throw new Error(`in the page: ${result.error}`);
    return result?.value;
  }

  pointerMove(x, y) {
    return this.command("POST", "/actions", {
      actions: [
        {
          type: "pointer",
          id: "mouse",
          parameters: { pointerType: "mouse" },
          actions: [{ type: "pointerMove", x, y, origin: "viewport", duration: 0 }],
        },
      ],
    });
  }

  /** Presses and releases `key` ("Shift"). */
  press(key) {
    const value = KEYS[key] ?? key;
    return this.command("POST", "/actions", {
      actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value }, { type: "keyUp", value }] }],
    });
  }

}
