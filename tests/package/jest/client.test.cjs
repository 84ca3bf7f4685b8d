// Jest (CommonJS, jsdom): `require("authpulse")` takes the package's CommonJS entry, the module
// loads from node_modules by itself, and a client keeps the contract's rules on Jest's fake clock.
const { AuthClient, createAuthClient, init } = require("authpulse");

const MINUTE = 60_000;

afterEach(() => jest.useRealTimers());

test("before the module is loaded, new AuthClient() throws not_initialized and says what to do", () => {
  expect(() => new AuthClient({})).toThrow(
    expect.objectContaining({ code: "not_initialized", message: expect.stringContaining("await init()") }),
  );
});

test("a client on Jest's fake clock: the session, then an idle sign-out 15 minutes after the last activity", async () => {
  jest.useFakeTimers({ now: Date.parse("2030-01-07T09:00:00Z") });
  // The renew endpoint: a new 5-minute token each time.
  global.fetch = jest.fn(async () => Response.json({ access_token: "token-2", expires_in: 300 }));
  const auth = await createAuthClient({ crossTab: false });
  const expired = [];
  auth.on("expired", ({ reason }) => expired.push(reason));
  auth.setSession({ access_token: "token-1", expires_in: 300 });
  expect(auth.state).toBe("active");

  // Activity after the token expired, before the idle deadline: renewed at once.
  await jest.advanceTimersByTimeAsync(10 * MINUTE);
  auth.touch();
  await expect(auth.getAccessToken()).resolves.toBe("token-2");
  expect(fetch).toHaveBeenCalledTimes(1);
  expect(fetch.mock.calls[0][0]).toBe("/auth/renew");
  jest.advanceTimersByTime(14 * MINUTE);
  expect(auth.state).toBe("warning");
  jest.advanceTimersByTime(MINUTE);
  expect(auth.state).toBe("expired");
  expect(expired).toEqual(["idle"]);
  auth.dispose();
});

test("init() again, once loaded, resolves at once", async () => {
  await expect(init()).resolves.toBeUndefined();
});
