// Every marked line must fail to compile, with (one of) the error codes in its marker, and nothing
// else may: types.mjs compiles this file alone and compares tsc's errors with the markers.
import { AuthClient, createAuthClient, init } from "authpulse";

export async function mistakes(auth: AuthClient): Promise<void> {
  await createAuthClient({ idleTimeoutMS: 60_000 }); // error TS2561 (a misspelt option)
  new AuthClient({ renewUrl: 42 }); // error TS2322 (an option of the wrong type)
  new AuthClient({ allowedOrigins: "https://api.example" }); // error TS2322 (a string, not a list)
  new AuthClient({ logger: { debug() {} } }); // error TS2739 (a logger without info and warn)
  auth.on("expire", () => {}); // error TS2345 (a misspelt event)
  auth.on("expired", ({ reason }: { reason: number }) => reason); // error TS2345 (a wrong detail type)
  auth.on("renewed", ({ state }) => state); // error TS2339 (another event's detail)
  auth.on("statechange", ({ state }) => state === "signedIn"); // error TS2367 (a state that does not exist)
  auth.setSession({ expires_in: 300 }); // error TS2345/TS2741 (no access_token: typescript 5 / 7)
  auth.state = "active"; // error TS2540 (a read-only getter)
  auth.idleExpiresAt = 0; // error TS2540 (a read-only getter)
  const exports: WebAssembly.Exports = await init(); // error TS2322 (init resolves to nothing: no wasm-bindgen exports)
  const free: () => void = auth.free; // error TS2339 (wasm-bindgen's internals are not exported)
  const token: string = await auth.getAccessToken(); // error TS2322 (null when signed out)
  console.log(exports, free, token);
}
