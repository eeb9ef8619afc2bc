import { isDidKey } from "./crypto/didkey.ts";
import { canonical } from "./shared/requester.ts";

export interface Config {
  port: number;
  /** Public origin, no trailing slash: every URL and actor id starts with it. */
  origin: string;
  databaseUrl: string;
  /** A did:key that owns the instance from its first start. */
  ownerDid?: string;
  /** Longest message, in characters. */
  maxMessageLength: number;
  /**
   * HARMONY_ALLOW_PRIVATE_ADDRESSES=1: federate with loopback and private
   * network addresses over http (tests and LANs). Off by default: it would
   * let remote servers make this one fetch internal addresses.
   */
  allowPrivateAddresses: boolean;
  /** How often bridged channels ask their peers for operations they missed. */
  syncIntervalSeconds: number;
  /**
   * HARMONY_RECOVERY_DELAY_SECONDS: the default time lock of a social
   * recovery (72 hours); a community's admins may set their own.
   */
  recoveryDelaySeconds?: number;
  /** Uploaded files (server/files): where the encrypted blobs go (HARMONY_FILES_DIR). */
  filesDir?: string;
  /** HARMONY_FILES_KEY: the key-encryption key of file keys (32 bytes, hex or base64); else the key file. */
  filesKey?: string;
  /** HARMONY_FILES_KEY_FILE: where the key-encryption key is kept (created on first start). */
  filesKeyFile?: string;
  /** HARMONY_FILES_UNATTACHED_HOURS: uploads no message attached are removed after this long. */
  filesUnattachedSeconds?: number;
  /**
   * HARMONY_BODY_TIMEOUT_SECONDS: how long a request may keep us waiting
   * for its body (server/http/limits.ts); past it the answer is 408.
   */
  bodyTimeoutSeconds: number;
  /**
   * HARMONY_SIGN_IN_LIMIT ("30/60"): sign-in challenges, and sign-ins, one
   * address may ask for per window of that many seconds (server/identity/throttle.ts).
   */
  signInLimit: { count: number; seconds: number };
  /**
   * HARMONY_TRUSTED_PROXIES: addresses of the reverse proxies in front of
   * the instance (comma-separated). Requests from them are counted against
   * the client named in X-Forwarded-For (server/shared/requester.ts).
   */
  trustedProxies: string[];
}

/** The directory of a local database file ("data" for file:data/harmony.db), or null. */
function databaseDir(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const path = url.slice(5).split("?")[0];
  if (!path || path === ":memory:") return null;
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = Deno.env.toObject()): Config {
  const portText = env.PORT ?? "8000";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a port number, not "${portText}"`);
  }
  let origin = env.HARMONY_ORIGIN ?? `http://localhost:${port}`;
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    if (url.pathname !== "/" || url.search || url.hash) {
      throw new ConfigError(`HARMONY_ORIGIN must be an origin without a path: "${origin}"`);
    }
    origin = url.origin;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`HARMONY_ORIGIN must be an http(s) origin, not "${origin}"`);
  }
  const ownerDid = env.HARMONY_OWNER || undefined;
  if (ownerDid && !isDidKey(ownerDid)) {
    throw new ConfigError(`HARMONY_OWNER must be an Ed25519 did:key, not "${ownerDid}"`);
  }
  const syncText = env.HARMONY_SYNC_INTERVAL_SECONDS ?? "60";
  const syncIntervalSeconds = Number(syncText);
  if (!Number.isFinite(syncIntervalSeconds) || syncIntervalSeconds <= 0) {
    throw new ConfigError(
      `HARMONY_SYNC_INTERVAL_SECONDS must be a positive number of seconds, not "${syncText}"`,
    );
  }
  const delayText = env.HARMONY_RECOVERY_DELAY_SECONDS ?? String(72 * 3600);
  const recoveryDelaySeconds = Number(delayText);
  if (!Number.isInteger(recoveryDelaySeconds) || recoveryDelaySeconds < 1) {
    throw new ConfigError(
      `HARMONY_RECOVERY_DELAY_SECONDS must be a whole number of seconds (at least 1), not "${delayText}"`,
    );
  }
  const databaseUrl = env.DATABASE_URL || "file:data/harmony.db";
  // Files go next to a local database file by default (data/files), else to data/files.
  const filesDir = (env.HARMONY_FILES_DIR || `${databaseDir(databaseUrl) ?? "data"}/files`).replace(
    /\/+$/,
    "",
  );
  const hoursText = env.HARMONY_FILES_UNATTACHED_HOURS ?? "24";
  const hours = Number(hoursText);
  if (!Number.isFinite(hours) || hours <= 0) {
    throw new ConfigError(
      `HARMONY_FILES_UNATTACHED_HOURS must be a positive number of hours, not "${hoursText}"`,
    );
  }
  const timeoutText = env.HARMONY_BODY_TIMEOUT_SECONDS ?? "30";
  const bodyTimeoutSeconds = Number(timeoutText);
  if (!Number.isFinite(bodyTimeoutSeconds) || bodyTimeoutSeconds <= 0) {
    throw new ConfigError(
      `HARMONY_BODY_TIMEOUT_SECONDS must be a positive number of seconds, not "${timeoutText}"`,
    );
  }
  const limitText = env.HARMONY_SIGN_IN_LIMIT ?? "30/60";
  const limitMatch = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(limitText);
  const signInLimit = limitMatch ? { count: Number(limitMatch[1]), seconds: Number(limitMatch[2]) } : null;
  if (!signInLimit || signInLimit.count < 1 || signInLimit.seconds < 1) {
    throw new ConfigError(
      `HARMONY_SIGN_IN_LIMIT must be "COUNT/SECONDS" (sign-ins per address per window), not "${limitText}"`,
    );
  }
  const trustedProxies = (env.HARMONY_TRUSTED_PROXIES ?? "").split(",").map((a) => a.trim()).filter(Boolean);
  const badProxy = trustedProxies.find((a) => canonical(a) === null);
  if (badProxy !== undefined) {
    throw new ConfigError(`HARMONY_TRUSTED_PROXIES must list IP addresses, not "${badProxy}"`);
  }
  return {
    port,
    origin,
    bodyTimeoutSeconds,
    signInLimit,
    databaseUrl,
    trustedProxies,
    filesDir,
    filesKey: env.HARMONY_FILES_KEY || undefined,
    filesKeyFile: env.HARMONY_FILES_KEY_FILE || `${filesDir}.key`,
    filesUnattachedSeconds: Math.round(hours * 3600),
    ownerDid,
    maxMessageLength: 4000,
    allowPrivateAddresses: env.HARMONY_ALLOW_PRIVATE_ADDRESSES === "1",
    syncIntervalSeconds,
    recoveryDelaySeconds,
  };
}
