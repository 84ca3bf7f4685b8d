// Node16 resolution, an ES module: `import` takes the "default" condition, index.d.ts.
import { createAuthClient, type AuthClient } from "authpulse";
import { useAuth } from "authpulse/react";

export const client: Promise<AuthClient> = createAuthClient({ crossTab: false });
export const hook: typeof useAuth = useAuth;
