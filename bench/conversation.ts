/**
 * Conversation features: how fast reactions fold (React and Unreact
 * operations from a peer, applied in batches by applyBatch, as bridges and
 * anti-entropy deliver them), and what the extras of a page of 50 messages
 * (reactions, pins, thread summaries, quoted replies) cost to read with
 * 10,000 standing reactions in the channel.
 */
import { applyBatch, indexRowFrom, opIdOf, type OpSubmission, toView } from "../server/messages/oplog.ts";
import { signMessage, signReact, signUnreact } from "../server/documents/documents.ts";
import { identityFromSigningSecret } from "../server/crypto/derive.ts";
import { type KeySigner, signerFromSecret } from "../server/crypto/signer.ts";
import { openDatabase } from "../db/client.ts";
import { extrasFor } from "../server/conversation/store.ts";
import type { MessageView } from "../server/shared/model.ts";

export interface ConversationBench {
  reactsPerSecond: number;
  unreactsPerSecond: number;
  pageExtrasP50Ms: number;
  pageExtrasP99Ms: number;
  reactions: number;
}

const ORIGIN = "https://peer.example";
const CHANNEL = `${ORIGIN}/channels/aaaaaaaaaa`;
const EMOJI = ["👍", "❤️", "🎉", "😂", "🔥"];

async function member(n: number): Promise<KeySigner> {
  const secret = new Uint8Array(32).fill(n);
  return await signerFromSecret(identityFromSigningSecret(secret).did, secret);
}

export async function benchConversation(reactions = 10_000): Promise<ConversationBench> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-bench-" });
  const database = await openDatabase(`file:${dir}/bench.db`);
  try {
    const members = await Promise.all(Array.from({ length: 50 }, (_, i) => member(i + 1)));
    let seq = 0;
    const envelope = () => ({ origin: ORIGIN, seq: ++seq, lamport: seq });
    const time = Date.parse("2026-11-01T00:00:00Z");
    const at = (i: number) => new Date(time + i * 1000).toISOString();
    // 200 messages, then reactions on them.
    const posts: OpSubmission[] = [];
    for (let i = 0; i < 200; i++) {
      const doc = await signMessage(members[i % 50], CHANNEL, `message ${i}`, undefined, at(i));
      posts.push({ doc, opId: await opIdOf(doc), channel: CHANNEL, envelope: envelope() });
    }
    await database.writeSql((sql) => applyBatch(sql, "https://here.example", posts));
    const reacts: OpSubmission[] = [];
    for (let i = 0; i < reactions; i++) {
      const doc = await signReact(
        members[i % 50],
        CHANNEL,
        (posts[i % 200].doc as { id: string }).id,
        EMOJI[i % 5],
        at(1000 + i),
      );
      reacts.push({ doc, opId: await opIdOf(doc), channel: CHANNEL, envelope: envelope() });
    }
    let start = performance.now();
    for (let i = 0; i < reacts.length; i += 256) {
      await database.writeSql((sql) => applyBatch(sql, "https://here.example", reacts.slice(i, i + 256)));
    }
    const reactsPerSecond = reacts.length / ((performance.now() - start) / 1000);

    const unreacts: OpSubmission[] = [];
    for (let i = 0; i < 1000; i++) {
      const react = reacts[i].doc as { actor: string; object: string; content: string };
      const doc = await signUnreact(
        members[i % 50],
        CHANNEL,
        react.object,
        react.content,
        [reacts[i].opId],
        at(20_000 + i),
      );
      unreacts.push({ doc, opId: await opIdOf(doc), channel: CHANNEL, envelope: envelope() });
    }
    start = performance.now();
    for (let i = 0; i < unreacts.length; i += 256) {
      await database.writeSql((sql) => applyBatch(sql, "https://here.example", unreacts.slice(i, i + 256)));
    }
    const unreactsPerSecond = unreacts.length / ((performance.now() - start) / 1000);

    const rows = await database.db.all<Record<string, unknown>>(
      (await import("drizzle-orm")).sql`SELECT * FROM message_index ORDER BY lamport DESC LIMIT 50`,
    );
    const page: MessageView[] = rows.map((r) => toView(indexRowFrom(r)));
    const h = { db: database.db, config: { origin: "https://here.example" } };
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await extrasFor(h, page, members[i % 50].did);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return {
      reactsPerSecond: Math.round(reactsPerSecond),
      unreactsPerSecond: Math.round(unreactsPerSecond),
      pageExtrasP50Ms: Number(times[Math.floor(times.length * 0.5)].toFixed(2)),
      pageExtrasP99Ms: Number(times[Math.floor(times.length * 0.99)].toFixed(2)),
      reactions: reactions - 1000,
    };
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchConversation(), null, 2));
}
