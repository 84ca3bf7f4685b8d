// Node16 resolution, a CommonJS module (Jest, Node's require): the "require" condition, index.d.cts.
import authpulse = require("authpulse");
import react = require("authpulse/react");

export const client: Promise<authpulse.AuthClient> = authpulse.createAuthClient({ crossTab: false });
export const provider: typeof react.AuthProvider = react.AuthProvider;
