/**
 * Test instances: a real server on a free loopback port over its own
 * temporary libSQL file, and identities that sign in through the real API.
 */
import { HarmonyClient, identityFileFromMnemonic, signerFromIdentityFile } from "../../cli/client.ts";
import { loadConfig } from "../../server/config.ts";
import { generateMnemonic } from "../../server/crypto/derive.ts";
import { type RunningInstance, startInstance } from "../../server/instance.ts";
import type { OutboundOptions } from "../../server/net/outbound.ts";

export interface TestInstance extends RunningInstance {
  dir: string;
  databaseUrl: string;
  /** Stops the server and removes its files. */
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTestInstance(
  env: Record<string, string> = {},
  options: { outbound?: Partial<OutboundOptions> } = {},
): Promise<TestInstance> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-test-" });
  const databaseUrl = env.DATABASE_URL ?? `file:${dir}/harmony.db`;
  const config = loadConfig({ PORT: "0", ...env, DATABASE_URL: databaseUrl });
  const instance = await startInstance(config, {
    log: () => {},
    originFollowsPort: !env.HARMONY_ORIGIN,
    outbound: options.outbound,
  });
  return {
    ...instance,
    get federationLoaded() {
      return instance.federationLoaded;
    },
    dir,
    databaseUrl,
    async [Symbol.asyncDispose]() {
      await instance.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A new identity with its recovery phrase (to restore it in a browser) and a signed-in client. */
export async function newPerson(
  instance: { origin: string },
): Promise<{ mnemonic: string; client: HarmonyClient }> {
  const mnemonic = generateMnemonic();
  const client = new HarmonyClient(
    instance.origin,
    await signerFromIdentityFile(await identityFileFromMnemonic(mnemonic)),
  );
  await client.signIn();
  return { mnemonic, client };
}

/** A new identity with a signed-in client. */
export async function newClient(instance: { origin: string }, signIn = true): Promise<HarmonyClient> {
  const file = await identityFileFromMnemonic(generateMnemonic());
  const client = new HarmonyClient(instance.origin, await signerFromIdentityFile(file));
  if (signIn) await client.signIn();
  return client;
}

/** An instance already claimed by `owner`, with the community open to joins. */
export async function claimedInstance(
  env: Record<string, string> = {},
  options: { outbound?: Partial<OutboundOptions> } = {},
) {
  const instance = await startTestInstance(env, options);
  const owner = await newClient(instance);
  const token = instance.claimUrl!.split("/claim/")[1];
  await owner.request("POST", "/claim", { token });
  return { instance, owner };
}

/** A signed-in member of the instance (joined through an open community or an invite). */
export async function memberOf(instance: { origin: string }, owner: HarmonyClient): Promise<HarmonyClient> {
  const invite = await owner.request<{ code: string }>("POST", "/invites", { maxUses: 1 });
  const member = await newClient(instance);
  await member.request("POST", "/join", { invite: invite.code });
  return member;
}
