import type { Harmony } from "../harmony.ts";
import type { Actor } from "../shared/model.ts";
import type { Session } from "../identity/auth.ts";

/** What every request handler finds on the Hono context. */
export interface AppEnv {
  /** What Deno.serve hands each request (server/instance.ts): the connection's peer. */
  Bindings: { info?: Deno.ServeHandlerInfo };
  Variables: {
    harmony: Harmony;
    actor: Actor;
    session: Session | null;
    /** The raw session token, to close the session on sign-out. */
    sessionToken: string | null;
  };
}
