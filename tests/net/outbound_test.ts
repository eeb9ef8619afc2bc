/**
 * Requests to other servers connect to the address the policy checked: a
 * name is resolved once, and a DNS answer that changes afterwards (DNS
 * rebinding) cannot make a request land on the instance's own network.
 * The resolver is injected, so a test can answer a public address first
 * and a loopback one second; a raw listener on loopback counts every
 * connection that reaches it.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { AddressRefused } from "../../server/net/address.ts";
import { Outbound, type Resolver } from "../../server/net/outbound.ts";
import { ConnectTunnel } from "../../server/net/tunnel.ts";
import { findChannel } from "../../server/channels/channels.ts";
import { requestFollow } from "../../server/replication/followers.ts";
import { queueJobs } from "../../db/schema.ts";
import { claimedInstance } from "../helpers/instance.ts";
import { testCertificates } from "./tls.ts";

/** A documentation address (TEST-NET-3): public by the policy, never this machine. */
const PUBLIC_ADDRESS = "203.0.113.7";

/** A loopback TCP listener that counts (and drops) every connection it gets. */
function loopbackTrap() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const counter = { connections: 0 };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        counter.connections++;
        conn.close();
      }
    } catch { /* closed */ }
  })();
  return Object.assign(counter, {
    port: listener.addr.port,
    async close() {
      listener.close();
      await accepting;
    },
  });
}

/** Answers a public address the first time a name is asked for, loopback every time after. */
function rebindingResolver() {
  const asked: string[] = [];
  const resolve: Resolver = (host) => {
    asked.push(host);
    return Promise.resolve(asked.length === 1 ? [PUBLIC_ADDRESS] : ["127.0.0.1"]);
  };
  return { asked, resolve };
}

const settle = (promise: Promise<Response>) => promise.then((r) => r.body?.cancel(), (error: Error) => error);

Deno.test("a rebinding name is resolved once and the request never reaches the loopback answer", async () => {
  const trap = loopbackTrap();
  const { asked, resolve } = rebindingResolver();
  const outbound = new Outbound({ allowPrivate: false, resolve, timeoutMs: 3_000 });
  const url = `https://localhost:${trap.port}/inbox`;
  try {
    // The old way, a check and then a fetch that resolves the name again, lands on loopback:
    await outbound.addressesOf(new URL(url));
    await settle(fetch(url, { signal: AbortSignal.timeout(3_000) }));
    assert.equal(trap.connections, 1, "the plain fetch after the check reached the loopback server");
    trap.connections = 0;

    for (let i = 0; i < 3; i++) {
      await settle(outbound.fetch(url, { method: "POST", body: "{}" }));
    }
    assert.equal(trap.connections, 0, "no request reached the loopback server");
    assert.deepEqual(asked, ["localhost"], "the name was resolved once, and its checked answer reused");
  } finally {
    await outbound.close();
    await trap.close();
  }
});

Deno.test("a name whose next answer is private is refused, not connected to", async () => {
  const trap = loopbackTrap();
  const { resolve } = rebindingResolver();
  const outbound = new Outbound({ allowPrivate: false, resolve, timeoutMs: 3_000, addressTtlMs: 0 });
  const url = `https://rebind.example:${trap.port}/actor`;
  try {
    await settle(outbound.fetch(url));
    await assert.rejects(outbound.fetch(url), AddressRefused);
    assert.equal(trap.connections, 0);
  } finally {
    await outbound.close();
    await trap.close();
  }
});

Deno.test("https goes to the checked address with the name's SNI and certificate, http with its Host", async () => {
  const tls = await testCertificates(["peer.test"]);
  const secure = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: tls.cert, key: tls.key, onListen() {} },
    (request) => new Response(`secure ${new URL(request.url).pathname}`),
  );
  const plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => new Response(`plain ${request.headers.get("host")}`),
  );
  const asked: string[] = [];
  const outbound = new Outbound({
    allowPrivate: true,
    caCerts: [tls.ca],
    resolve: (host) => {
      asked.push(host);
      return Promise.resolve(["127.0.0.1"]);
    },
  });
  try {
    const ok = await outbound.fetch(`https://peer.test:${secure.addr.port}/hello`);
    assert.equal(await ok.text(), "secure /hello");
    // Same address, another name: the certificate is checked for the name asked for.
    const wrong = await outbound.fetch(`https://other.test:${secure.addr.port}/hello`).catch((e) => e);
    assert.ok(wrong instanceof Error, "a certificate for another name is refused");
    assert.match(String(wrong.cause ?? wrong.message), /certificate/i);
    const http = await outbound.fetch(`http://peer.test:${plain.addr.port}/x`);
    assert.equal(await http.text(), `plain peer.test:${plain.addr.port}`);
    assert.deepEqual(asked, ["peer.test", "other.test"]);
  } finally {
    await outbound.close();
    await secure.shutdown();
    await plain.shutdown();
  }
});

Deno.test("the tunnel connects only for its owner's secret, and only to a name's checked address", async () => {
  const trap = loopbackTrap();
  const tunnel = new ConnectTunnel((host) => (host === "checked.test" ? "127.0.0.1" : null));
  const proxy = new URL(tunnel.url);
  const connect = async (target: string, secret: string) => {
    const conn = await Deno.connect({ hostname: proxy.hostname, port: Number(proxy.port) });
    const auth = btoa(`${secret}:`);
    await conn.write(
      new TextEncoder().encode(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
      ),
    );
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    conn.close();
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0];
  };
  try {
    assert.equal(
      await connect(`checked.test:${trap.port}`, "guess"),
      "HTTP/1.1 407 Proxy Authentication Required",
    );
    assert.equal(
      await connect(`other.test:${trap.port}`, tunnel.secret),
      "HTTP/1.1 407 Proxy Authentication Required",
    );
    assert.equal(
      await connect(`127.0.0.1:${trap.port}`, tunnel.secret),
      "HTTP/1.1 407 Proxy Authentication Required",
    );
    assert.equal(trap.connections, 0);
    assert.equal(
      await connect(`checked.test:${trap.port}`, tunnel.secret),
      "HTTP/1.1 200 Connection Established",
    );
    for (let i = 0; i < 50 && trap.connections === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(trap.connections, 1);
  } finally {
    await tunnel.close();
    await trap.close();
  }
});

Deno.test("a redirect is resolved and checked again, and followed only for GET and HEAD", async () => {
  const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("landed"));
  const source = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(null, { status: 302, headers: { location: `http://second.test:${target.addr.port}/x` } }),
  );
  const asked: string[] = [];
  const outbound = new Outbound({
    allowPrivate: true,
    resolve: (host) => {
      asked.push(host);
      return Promise.resolve(["127.0.0.1"]);
    },
  });
  const start = `http://first.test:${source.addr.port}/`;
  try {
    const followed = await outbound.fetch(start);
    assert.equal(await followed.text(), "landed");
    assert.equal(followed.url, `http://second.test:${target.addr.port}/x`);
    assert.deepEqual(asked, ["first.test", "second.test"]);
    await assert.rejects(outbound.fetch(start, { redirect: "error" }), TypeError);
    const post = await outbound.fetch(start, { method: "POST", body: "{}" });
    assert.equal(post.status, 302, "a POST is not replayed elsewhere");
    await post.body?.cancel();
    const manual = await outbound.fetch(start, { redirect: "manual" });
    assert.equal(manual.status, 302);
    await manual.body?.cancel();
  } finally {
    await outbound.close();
    await source.shutdown();
    await target.shutdown();
  }
});

Deno.test({
  name: "Fedify's deliveries to a follower's inbox go to the address that was checked",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const trap = loopbackTrap();
    const { asked, resolve } = rebindingResolver();
    // Private addresses not allowed: only the resolver's first, public answer may be connected to.
    const { instance, owner } = await claimedInstance({}, { outbound: { resolve, timeoutMs: 2_000 } });
    await using _ = instance;
    const h = instance.harmony;
    try {
      const general = await findChannel(h, "general");
      const remote = `https://localhost:${trap.port}`;
      await requestFollow(h, {
        channelIri: general.iri,
        actor: `${remote}/users/eve`,
        inbox: `${remote}/users/eve/inbox`,
        sharedInbox: null,
        followId: `${remote}/follows/1`,
        software: "mastodon",
      });
      // The Accept of the Follow and the Announce of a post are both delivered to the inbox.
      const deadline = Date.now() + 10_000;
      while (!instance.federationLoaded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await owner.post("general", "hello, fediverse");
      while (asked.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(asked.slice(0, 1), ["localhost"], "a delivery to the inbox was attempted");
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal(trap.connections, 0, "no delivery reached the loopback server");
      const jobs = await h.db.select().from(queueJobs).where(eq(queueJobs.queue, "fedify"));
      assert.ok(jobs.length > 0, "the deliveries wait to be retried");
    } finally {
      await trap.close();
    }
  },
});

Deno.test("nothing in server/ or federation/ calls the global fetch itself", async () => {
  const root = new URL("../../", import.meta.url);
  const offenders: string[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (/\.tsx?$/.test(entry.name) && !url.pathname.endsWith("server/net/outbound.ts")) {
        const text = await Deno.readTextFile(url);
        text.split("\n").forEach((line, i) => {
          if (/(?<![.\w#])fetch\(|globalThis\.fetch/.test(line) && !/^\s*(\/\/|\*)/.test(line)) {
            offenders.push(`${url.pathname.slice(root.pathname.length)}:${i + 1}: ${line.trim()}`);
          }
        });
      }
    }
  };
  await walk(new URL("server/", root));
  await walk(new URL("federation/", root));
  assert.deepEqual(offenders, [], "use h.outbound.fetch: it connects to the address the policy checked");
});
