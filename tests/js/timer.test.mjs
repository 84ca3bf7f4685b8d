// js/timer.js on Node's test runner, with performance.now() and setTimeout replaced: the one
// timer fires at or after the deadline it was armed for (a performance.now() reading), never
// before it, so that one wake-up reaches each of the engine's deadlines.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Timer } from "../../js/timer.js";

let now;
let armed; // [callback, delay] of setTimeout's calls
beforeEach(() => {
  now = 0;
  armed = [];
  globalThis.performance = { now: () => now };
  globalThis.setTimeout = (callback, delay) => armed.push([callback, delay]) - 1;
  globalThis.clearTimeout = (id) => armed[id] && (armed[id][0] = null);
});

/** What a browser does with the delay: a WebIDL `long`, the fraction cut off. */
const firesAt = (armedAt, delay) => armedAt + Math.trunc(delay);

test("a deadline a fraction of a millisecond away from a whole one is not fired before it", () => {
  for (const [at, reading] of [[106, 100.7], [5000, 0.25], [12346, 12340.999], [7, 6.001], [10, 10], [10, 10.5]]) {
    now = reading;
    armed = [];
    new Timer(() => {}).arm(at);
    const [[, delay]] = armed;
    assert.ok(Number.isInteger(delay), `a whole delay, not ${delay}`);
    assert.ok(firesAt(reading, delay) >= at || delay === 0, `armed at ${reading} for ${at}: fires at ${firesAt(reading, delay)}`);
    assert.ok(delay <= Math.max(at - reading, 0) + 1, `no later than needed: ${delay}`);
  }
});

test("the callback runs once with `at` cleared, a replaced timer does not fire, -1 arms nothing", () => {
  let fired = 0;
  const timer = new Timer(() => fired++);
  timer.arm(50);
  timer.arm(80); // replaces the first
  assert.equal(armed[0][0], null);
  assert.equal(timer.at, 80);
  armed[1][0]();
  assert.equal(fired, 1);
  assert.equal(timer.at, -1);
  timer.arm(-1);
  assert.equal(armed.length, 2);
  timer.arm(2 ** 40); // beyond setTimeout's range: clamped, not an overflow to 0
  assert.equal(armed[2][1], 2 ** 31 - 1);
});
