// A live strip chart of the session, in plain SVG: the last minutes on the left of "now", the
// deadlines ahead on its right. What it draws comes from the SDK's events and getters and from
// what the page itself observes (trusted input, the responses of the page's requests); it
// decides nothing.
//
// Lanes, top to bottom:
//   input     a tick per real (trusted) input event
//   tokens    each access token as a bar from its arrival to its expiry (torn down early: cut),
//             a diamond per renewal (red when the server refused it)
//   requests  each API call as a dot: green 2xx, orange 403, red 401, drawn above the line (the
//             SDK then renews once: a retry is the dot below it, a refused renewal a sign-out)
//   idle      the sliding idle window, from the last input to the idle deadline, its last part
//             (the warning) in orange; a triangle where the SDK warned, a red line where it tore down

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 900;
const LEFT = 78; // the lane labels
const RIGHT = WIDTH - 12;
const LANES = { input: [14, 30], tokens: [40, 76], requests: [86, 102], idle: [112, 128] };
const AXIS_Y = 146;
const HEIGHT = 160;
const KEEP_MS = 60 * 60_000; // what is kept for the chart, at most

/**
 * A chart in `svg`. `windowMs()` answers { pastMs, futureMs }, the span around now it shows.
 * Feed it with the record* methods; `draw(now, live)` redraws it, `live` being what the page
 * knows now: { signedIn, idleStart, idleDeadline, warnBeforeMs } (ms since the epoch).
 */
export function createSessionChart(svg, windowMs) {
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  const data = { inputs: [], tokens: [], renewals: [], requests: [], warnings: [], expiries: [] };
  let lastInput = -Infinity;

  const prune = (now) => {
    for (const list of Object.values(data)) {
      while (list.length && (list[0].at ?? list[0].to) < now - KEEP_MS) list.shift();
    }
  };

  return {
    /** A trusted input event at `at` (one tick per 200 ms at most). */
    recordInput(at) {
      if (at - lastInput < 200) return;
      lastInput = at;
      data.inputs.push({ at });
    },
    /** A new access token, received at `at`, expiring at `expiresAt` (the 'renewed' event). */
    recordToken(at, expiresAt) {
      data.tokens.push({ at, to: expiresAt });
    },
    /** A renewal request's answer: `ok` or refused (`status`). */
    recordRenewal(at, status) {
      data.renewals.push({ at, status });
    },
    /** An API response with `status`. */
    recordRequest(at, status) {
      data.requests.push({ at, status });
    },
    /** The SDK's 'idlewarning', for a teardown at `expiresAt`. */
    recordWarning(at, expiresAt) {
      data.warnings.push({ at, expiresAt });
    },
    /** The SDK's 'expired', with its reason: the current token ends here. */
    recordExpired(at, reason) {
      data.expiries.push({ at, reason });
      for (const token of data.tokens) if (token.to > at) token.cut = Math.min(token.cut ?? Infinity, at);
    },
    /** How many of each are drawn now (for tests and the legend). */
    counts() {
      const count = (selector) => svg.querySelectorAll(selector).length;
      return {
        inputs: count(".tick"),
        tokens: count(".token"),
        renewals: count(".renewal"),
        refusedRenewals: count(".renewal.refused"),
        requests: count(".request"),
        unauthorized: count(".request.s401"),
        warnings: count(".warning-mark"),
        expiries: count(".expired"),
        deadline: count(".deadline"),
      };
    },
    draw(now, live) {
      prune(now);
      const { pastMs, futureMs } = windowMs();
      const from = now - pastMs;
      const to = now + futureMs;
      const x = (t) => LEFT + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * (RIGHT - LEFT);
      const visible = (t) => t >= from && t <= to;
      const parts = [];
      const el = (name, attrs, text) => {
        const node = document.createElementNS(SVG_NS, name);
        for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
        if (text !== undefined) node.textContent = text;
        parts.push(node);
        return node;
      };

      // Lane labels and guides.
      for (const [name, [top, bottom]] of Object.entries(LANES)) {
        el("text", { x: 4, y: (top + bottom) / 2 + 4, class: "lane-label" }, name);
        el("line", { x1: LEFT, x2: RIGHT, y1: bottom, y2: bottom, class: "guide" });
      }
      // Time axis: a tick a minute (or every 5 min for wide windows), labelled relative to now.
      const step = to - from > 20 * 60_000 ? 5 * 60_000 : 60_000;
      for (let t = now - Math.floor(pastMs / step) * step; t <= to; t += step) {
        const minutes = Math.round((t - now) / 60_000);
        el("line", { x1: x(t), x2: x(t), y1: AXIS_Y - 6, y2: AXIS_Y - 2, class: "axis" });
        el("text", { x: x(t), y: AXIS_Y + 10, class: "axis-label" }, minutes === 0 ? "now" : `${minutes > 0 ? "+" : "−"}${Math.abs(minutes)} min`);
      }

      // input
      const [inTop, inBottom] = LANES.input;
      for (const { at } of data.inputs) {
        if (visible(at)) el("line", { x1: x(at), x2: x(at), y1: inTop + 2, y2: inBottom, class: "tick" });
      }

      // tokens: alternate two rows so that a renewal's overlap with the previous token shows
      const [tokTop, tokBottom] = LANES.tokens;
      const rowHeight = (tokBottom - tokTop) / 2 - 3;
      data.tokens.forEach((token, i) => {
        const end = Math.min(token.to, token.cut ?? Infinity);
        if (end < from || token.at > to) return;
        const y = tokTop + (i % 2) * (rowHeight + 4);
        const width = Math.max(1, x(end) - x(token.at));
        el("rect", { x: x(token.at), y, width, height: rowHeight, rx: 2, class: `token${token.cut !== undefined ? " cut" : ""}` });
      });
      for (const { at, status } of data.renewals) {
        if (!visible(at)) continue;
        const cx = x(at);
        const cy = (tokTop + tokBottom) / 2;
        el("path", { d: `M${cx} ${cy - 6} L${cx + 5} ${cy} L${cx} ${cy + 6} L${cx - 5} ${cy} Z`, class: `renewal${status >= 200 && status < 300 ? "" : " refused"}` });
      }

      // requests
      // A 401 and the SDK's retry come at the same moment: the 401 sits above the line, the
      // retry on it.
      const [reqTop, reqBottom] = LANES.requests;
      for (const { at, status } of data.requests) {
        if (!visible(at)) continue;
        const tone = status >= 200 && status < 300 ? "ok" : status === 401 ? "s401" : status === 403 ? "s403" : "other";
        const cy = status === 401 ? reqTop : (reqTop + reqBottom) / 2 + 2;
        el("circle", { cx: x(at), cy, r: 4, class: `request ${tone}` });
        if (status === 401) el("text", { x: x(at) + 6, y: reqTop + 3, class: "mark-label bad" }, "401");
      }

      // idle: the window from the last input to the deadline, sliding right with each input
      const [idleTop, idleBottom] = LANES.idle;
      if (live.signedIn && Number.isFinite(live.idleDeadline)) {
        const deadline = live.idleDeadline;
        const warnAt = deadline - (live.warnBeforeMs ?? 0);
        const start = Math.max(from, Math.min(live.idleStart ?? now, now));
        el("rect", { x: x(start), y: idleTop, width: Math.max(1, x(warnAt) - x(start)), height: idleBottom - idleTop, class: "idle-window" });
        if (live.warnBeforeMs > 0) {
          el("rect", { x: x(warnAt), y: idleTop, width: Math.max(1, x(deadline) - x(warnAt)), height: idleBottom - idleTop, class: "warning-window" });
        }
        if (visible(deadline)) {
          el("line", { x1: x(deadline), x2: x(deadline), y1: LANES.input[0], y2: idleBottom, class: "deadline" });
          el("text", { x: x(deadline) - 3, y: LANES.input[0] - 3, class: "mark-label deadline-label" }, "idle sign-out");
        }
      }
      for (const { at } of data.warnings) {
        if (visible(at)) el("path", { d: `M${x(at)} ${idleTop - 1} l5 8 l-10 0 Z`, class: "warning-mark" });
      }
      for (const { at, reason } of data.expiries) {
        if (!visible(at)) continue;
        el("line", { x1: x(at), x2: x(at), y1: LANES.input[0], y2: idleBottom, class: "expired" });
        el("text", { x: x(at) + 3, y: idleBottom + 1, class: "mark-label bad" }, `signed out (${reason})`);
      }

      el("line", { x1: x(now), x2: x(now), y1: LANES.input[0] - 10, y2: AXIS_Y - 2, class: "now" });
      svg.replaceChildren(...parts);
    },
  };
}
