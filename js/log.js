// The words of the `logger` option's lines. Not bundled into index.js: the client imports this
// file with its first line, so an app without a logger never downloads it. The engine names each
// decision by its number (src/core/log.rs `Line`, in that order), with a time (`@`: ms since
// the epoch, written in ISO 8601) and a word (`#`). A line's first letter is its level:
// d(ebug), i(nfo), w(arn).
const LINES = [
  "drenewal at @ if the user is active by then",
  "irenewal skipped: no activity since @",
  "iidle warning: signed out at @ without activity",
  "isigned out (#), last activity @",
  "i401: renewing, then retrying once",
  "i401: retrying with the newer token",
  "i401 not retried: the challenge is not invalid_token",
  "i401 not retried: second 401",
  "w401 not retried: a stream body cannot be sent again",
  "wrenewal failed (#), next attempt at @",
];
const LEVELS = { d: "debug", i: "info", w: "warn" };

/** Writes decision `line` (a number) to `logger`; a throwing logger stops nothing. */
export function log(logger, line, at, word) {
  const text = LINES[line];
  try {
    logger[LEVELS[text[0]]](`authpulse: ${text.slice(1).replace("@", new Date(at).toISOString()).replace("#", word)}`);
  } catch (error) {
    console.error("authpulse: the logger threw", error);
  }
}
