import { openDatabase } from "../db/client.ts";
import { createApp } from "./app.tsx";
import { loadAssets } from "./http/assets.ts";
import { bootstrap, claimUrl } from "./community/community.ts";
import type { Config } from "./config.ts";
import { Harmony } from "./harmony.ts";
import { type RecoveryService, startRecoveryService } from "./recovery/scheduler.ts";
import { type FilesService, startFilesService } from "./files/files.ts";
import { type FederationGate, federationGate } from "../federation/gate.ts";
import { attentionOf } from "./attention/live.ts";
import { ProofWorker } from "./proofs/mod.ts";
import { idleReclaimer } from "./http/idleMemory.ts";
import type { OutboundOptions } from "./net/outbound.ts";
import { type SignInSweeper, startSignInSweeper } from "./identity/sweeper.ts";

export interface RunningInstance {
  harmony: Harmony;
  /** The origin the server listens on (the configured one). */
  origin: string;
  port: number;
  /** Printed once on an unclaimed instance. */
  claimUrl: string | null;
  /** Whether the ActivityPub layer has been loaded yet (federation/gate.ts). */
  readonly federationLoaded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), creates the community on first start
 * and serves it. With port 0 the system picks a free port and the origin
 * follows it, unless HARMONY_ORIGIN was set explicitly.
 */
export async function startInstance(
  config: Config,
  options: {
    log?: (line: string) => void;
    originFollowsPort?: boolean;
    /** How requests to other servers resolve and connect (tests inject a resolver). */
    outbound?: Partial<OutboundOptions>;
  } = {},
): Promise<RunningInstance> {
  const log = options.log ?? console.log;
  const database = await openDatabase(config.databaseUrl);
  const assets = await loadAssets();
  let harmony: Harmony | null = null;
  let app: ReturnType<typeof createApp> | null = null;
  let federation: FederationGate | null = null;
  let recovery: RecoveryService | null = null;
  let files: FilesService | null = null;
  let signIns: SignInSweeper | null = null;
  const idle = idleReclaimer();
  const server = Deno.serve({
    port: config.port,
    hostname: "0.0.0.0",
    onListen: () => {},
  }, (request, info) => {
    idle.touch();
    if (!app) return new Response("starting", { status: 503 });
    return app.fetch(request, { info });
  });
  const port = server.addr.port;
  const resolved: Config = options.originFollowsPort && config.port === 0
    ? { ...config, port, origin: `http://127.0.0.1:${port}` }
    : { ...config, port };
  try {
    harmony = new Harmony(resolved, database, { proofs: new ProofWorker(), outbound: options.outbound });
    const { claimToken } = await bootstrap(harmony);
    // Completes social recoveries whose time lock ran out, now and on a timer.
    recovery = startRecoveryService(harmony, { log });
    // Expired challenges and sessions, ended sign-in windows: removed now and every few minutes.
    signIns = startSignInSweeper(harmony, { log });
    // Uploaded files: the key-encryption key, the blob store and the sweeper of unattached uploads.
    files = await startFilesService(harmony, { log });
    // The composition root: the only place in server/ that knows the ActivityPub layer,
    // which loads when something needs it (federation/gate.ts).
    federation = federationGate(harmony);
    app = createApp(harmony, assets, federation.middleware);
    await federation.start();
    log(
      `Harmony is listening on ${resolved.origin} (port ${port}, database ${redact(resolved.databaseUrl)})`,
    );
    const url = claimToken ? claimUrl(harmony, claimToken) : null;
    if (url) log(`This instance has no owner yet. Open this one-time link to claim it:\n\n  ${url}\n`);
    return {
      harmony,
      origin: resolved.origin,
      port,
      claimUrl: url,
      get federationLoaded() {
        return federation!.loaded;
      },
      async close() {
        idle.close();
        attentionOf(harmony!).close();
        harmony!.hub.stop();
        await server.shutdown();
        await recovery?.close();
        await signIns?.close();
        await files?.close();
        await harmony!.ops.close();
        await federation!.close();
        await harmony!.outbound.close();
        await harmony!.proofs.close();
        database.close();
      },
    };
  } catch (error) {
    idle.close();
    await server.shutdown();
    await recovery?.close();
    await signIns?.close();
    await files?.close();
    await federation?.close();
    await harmony?.outbound.close();
    await harmony?.proofs.close();
    database.close();
    throw error;
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    parsed.searchParams.delete("authToken");
    return parsed.toString();
  } catch {
    return url;
  }
}
