/**
 * BENCHMARKS.md rows and sections for the federation, capability and
 * authorization benchmarks (issues 3 and 4). Each function returns the
 * summary rows and the section text, or nothing when the benchmark did not run.
 */
import type { AuthorityBenchRow } from "./authority.ts";
import type { BridgeBenchResult } from "./bridge.ts";
import type { CapabilityBenchRow } from "./capabilities.ts";
import type { FanoutResult } from "./fanout.ts";
import type { IngestResult } from "./ingest.ts";
import type { LiveResult } from "./live.ts";
import type { KindResult, SearchBenchResult } from "./search.ts";

export interface Part {
  rows: string[];
  section: string;
}

const n0 = (x: number) => Math.round(x).toLocaleString("en");
const f = (x: number, digits = 2) => Number.isNaN(x) ? "—" : x.toFixed(digits);
const verdict = (ok: boolean) => (ok ? "**PASS**" : "**MISS**");
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function postingVsBaseline(
  now: IngestResult[],
  baseline: { commit: string; runs: IngestResult[] },
): Part {
  const after = medianOf(now.map((x) => x.perSecond));
  const before = medianOf(baseline.runs.map((x) => x.perSecond));
  const change = (after - before) / before * 100;
  const cpu = (runs: IngestResult[]) => medianOf(runs.map((x) => x.serverCpuSeconds / x.messages * 1000));
  const short = baseline.commit.slice(0, 12);
  return {
    rows: [
      `| 1b | Posting throughput against the code before capability authorization (${short}) | drop ≤ 20% | ${
        n0(after)
      } msg/s now vs ${n0(before)} msg/s before (${change >= 0 ? "+" : ""}${f(change, 1)}%) | ${
        verdict(change >= -20)
      } |`,
    ],
    section: `## 1b. Posting throughput before and after capability-based authorization

**What it measures.** Benchmark 1, run alternately against this checkout and against commit
\`${short}\` (the last one before every action went through \`authorize\`: role capabilities as
delegation chains from the community root, checked on every post), extracted with \`git archive\`
into \`bench/.cache\` by bench/baseline.ts. The same load generator, sizes and machine; the runs
alternate (now, before, now, before…) so that both see the same background load.

| Code | Runs (msg/s) | Median msg/s | Server CPU per message (median) |
|---|---|---|---|
| this checkout | ${now.map((x) => n0(x.perSecond)).join(", ")} | ${n0(after)} | ${f(cpu(now))} ms |
| ${short} (before) | ${baseline.runs.map((x) => n0(x.perSecond)).join(", ")} | ${n0(before)} | ${
      f(cpu(baseline.runs))
    } ms |

Authorizing a post costs a lookup in the cache of verified chains (revocation and expiry are
still checked each time: see benchmark 7), so the difference should stay within run-to-run noise.`,
  };
}

export function bridgePart(b: BridgeBenchResult): Part {
  // Runs saved before the timed start existed (bench/.cache/last-run.json) sent everything inside the window,
  // and before the repeated runs, measured once.
  const started = typeof b.firstContactMs === "number";
  const runs = b.measuredRuns ?? [{ perSecond: b.perSecond, seconds: b.seconds, latency: b.latency }];
  const measured = runs.length * b.operations;
  const sent = measured + (started ? b.warmup + 1 : 0);
  const start = started
    ? `The first is sent alone (first
contact: the instance loads its ActivityPub layer, fetches the peer's key and verifies the delegation
chain for the first time; it took ${f(b.firstContactMs, 0)} ms), then ${n0(b.warmup)} at full concurrency (${
      f(b.warmupSeconds, 1)
    } s), as the
ingest benchmark warms up; the figure is the steady rate of an established bridge. `
    : `This run predates the timed start: the first contact is inside the window. `;
  const rows = runs.map((run, i) =>
    `| ${runs.length > 1 ? i + 1 : "—"} | ${n0(b.operations)} | ${f(run.seconds, 1)} | ${
      n0(run.perSecond)
    } | ${f(run.latency.p50, 0)} ms | ${f(run.latency.p99, 0)} ms | ${f(run.latency.max, 0)} ms |`
  );
  return {
    rows: [
      `| 4 | Bridged inbound: capability-invoked operations verified and stored (${b.concurrency} in flight) | ≥ 1,000/s | ${
        n0(b.perSecond)
      }/s${runs.length > 1 ? ` (median of ${runs.length} runs)` : ""}, p50 ${f(b.latency.p50, 0)} ms, p99 ${
        f(b.latency.p99, 0)
      } ms | ${verdict(b.perSecond >= 1000 && b.failures === 0 && b.stored === sent)} |`,
    ],
    section: `## 4. Bridged inbound: capability invocations per second

**What it measures.** The instance runs as a separate process. The load generator plays a bridged
peer instance: it serves its channel actor with an Ed25519 Multikey, obtains a capability for one
channel's inbox through the real API (the owner grants it), then signs ${n0(measured)} distinct operations${
      started ? `, plus ${n0(b.warmup + 1)} for the start,` : ""
    } before the clock starts (${f(b.signSeconds, 1)} s of signing, excluded): each a
member-signed message (eddsa-jcs-2022) inside a \`Create\` that invokes the capability
(\`capabilityInvocation\` proof, action \`post\`, target the inbox). ${start}The measured ones are
POSTed ${b.concurrency} at a time, ${n0(b.operations)} per run, ${runs.length} run${
      runs.length > 1 ? "s one after another on the same bridge; the figure is the median run" : ""
    }. For each, the inbox fetches nothing (the peer's key is cached), verifies
the invocation proof and the delegation chain, checks the target, the action and the nonce (a proof is
accepted once), verifies the member's signature, and commits the operation to the log. ${b.authors} members
author the operations. Before the warm-up existed (until 2026-11-22) the first requests were inside the
window: every run had a p99 of 480–830 ms from the requests queued behind the first contact.

| Run | Operations | Seconds | Per second | p50 | p99 | max |
|---|---|---|---|---|---|---|
${rows.join("\n")}

Refused: ${b.failures}. Stored: ${n0(b.stored)} of the ${
      n0(sent)
    } operations sent (the start's included); all must be.

**How much it moves.** This figure follows the machine more than the code. The median of three consecutive
runs guards against a short stall, not against a slow spell that covers the whole window. On
2026-11-22 the same code measured 1,094/s and 995/s in two full runs an hour apart (one run each), and
1,529–1,639/s with \`deno run -A bench/bridge.ts 5000 64 500\` alone between them; earlier that day, with the
first contact still inside the window, 909–1,352/s. Neither core is saturated (CPU profile of a run alone: the
main thread idles about half of the window, the writer worker about 45%, with a third of its time in
statements and their commits): the bound is the latency of the group commits, with 64 requests in flight.`,
  };
}

export function fanoutPart(r: FanoutResult): Part {
  const worst = Math.max(...r.measured.map((m) => m.allMs));
  const allArrived = r.measured.every((m) => m.delivered === r.followers);
  const cpuPerDelivery = medianOf(r.measured.map((m) => m.serverCpuSeconds / r.followers * 1000));
  return {
    rows: [
      `| 5 | Fan-out: one message to ${
        n0(r.followers)
      } follower inboxes on distinct ports | all within 2 s | median ${f(r.p50AllMs / 1000)} s, worst ${
        f(worst / 1000)
      } s (${r.measured.length} messages) | ${verdict(allArrived && worst <= 2000)} |`,
    ],
    section: `## 5. Fan-out to ${n0(r.followers)} fediverse followers

**What it measures.** The instance runs as a separate process. This process runs ${
      n0(r.followers)
    } fediverse followers, each a \`Deno.serve\` listener on its own loopback port (a distinct origin,
so nothing collapses into a shared inbox) serving a Person with an RSA key, that verifies every
delivery's draft-cavage HTTP signature and Digest the way Mastodon does (key fetched from the
sender). Each sends a real signed \`Follow\` to a public channel and waits for the \`Accept\`
(${n0(r.accepted)} of ${n0(r.followers)} accepted; setup ${
      f(r.setupSeconds, 1)
    } s). Then messages are posted through the API one at a time; the clock runs from the POST to
the moment the last follower has received and verified the channel's \`Announce\`.

| Message | All delivered | Half delivered | POST | Delivered | Refused | Server CPU | Receivers' CPU |
|---|---|---|---|---|---|---|---|
${
      [r.warmup, ...r.measured].map((m, i) =>
        `| ${i === 0 ? "warm-up" : i} | ${f(m.allMs, 0)} ms | ${f(m.halfMs, 0)} ms | ${f(m.postMs, 0)} ms | ${
          n0(m.delivered)
        } | ${m.refused} | ${f(m.serverCpuSeconds)} s | ${f(m.receiverCpuSeconds)} s |`
      ).join("\n")
    }

**Where the time goes.** Each delivery is a separate HTTP request with its own RSA-SHA256
signature (Mastodon needs one per request: it covers the request target, host, date and digest),
about ${f(cpuPerDelivery)} ms of server CPU per delivery here. The signatures are made by the system's
OpenSSL through FFI (federation/opensslRsa.ts): about 0.3 ms of CPU each, off the main thread, where
Deno's WebCrypto (the pure-Rust \`rsa\` crate) takes about 1.9 ms; with WebCrypto, the server spent about
2.5 ms of CPU per delivery and a message took 1.8–2.1 s to reach everyone. Deliveries are queued in libSQL
(Fedify enqueues them one by one when an ordering key is given, which we give so that a message's Create,
Update and Delete reach each server in order; the writes share group commits), leased and settled in
shared writes that are not synced to disk (they survive a crash of the process; a power loss could only
make a delivery run twice), and sent by 24 queue workers side by side. The ${n0(r.followers)}
receivers verify on the same two cores. The server's RSS after the run was ${f(r.serverRssAfterMiB, 0)} MiB.`,
  };
}

export function capabilitiesPart(rows: CapabilityBenchRow[]): Part {
  return {
    rows: rows.map((row, i) =>
      `| 6${"abcd"[i]} | Capability invocation verified, ${row.name} | (informational) | ${
        n0(row.median)
      }/s (${f(row.ms)} ms each) | — |`
    ),
    section: `## 6. Capability invocation verification

**What it measures.** \`verifyInvocation\` (server/capabilities/verify.ts) in one process, on
distinct pre-signed invocations (\`Create\` activities with an eddsa-jcs-2022
\`capabilityInvocation\` proof) over a 1-link chain (root → remote channel actor) and a 3-link
chain (root → channel actor → relay → bot), whose delegations are signed with eddsa-rdfc-2022
(RDF canonicalization, the expensive part). "Cold" verifies every delegation proof each time;
"cached" keeps verified delegation proofs (by their proof value) so only the invocation's own
signature, the chain's targets, actions, expiry and revocation are checked. Rates are the median
(and best) of 500 ms windows.

| Chain | Delegation proofs | Median per second | Best per second | ms each |
|---|---|---|---|---|
${
      rows.map((row) =>
        `| ${row.chain} link${row.chain > 1 ? "s" : ""} | ${
          row.cached ? "cached" : "verified every time"
        } | ${n0(row.median)} | ${n0(row.best)} | ${f(row.ms)} |`
      ).join("\n")
    }`,
  };
}

export function authorityPart(rows: AuthorityBenchRow[]): Part {
  return {
    rows: rows.map((row, i) =>
      `| 7${
        "ab"[i]
      } | Authorization check on the hot path (post a message), ${row.chainLinks}-link chain, ${row.name} | (informational) | ${
        n0(row.perSecond)
      } checks/s (${f(row.microsecondsPerCheck, 1)} µs each) | — |`
    ),
    section: `## 7. Authorization checks per second

**What it measures.** \`authorize(h, actor, "post", channel)\` (server/authority/authorize.ts), the
call every post makes, in one process against a real instance on a libSQL file, for a member whose
moderator capability is ${
      rows[0]?.chainLinks ?? 3
    } delegations from the community root (community → owner → admin → moderator), each link an
eddsa-rdfc-2022-signed ZCAP delegation. "cached" is the normal path: verified chains are kept in
memory, and each check still walks the chain for expiry, revocation (against the authority state
held in memory and reloaded from the database after every change of roles or capabilities) and the
action and target; "uncached" verifies every link's
signature on every call.

| Path | Chain links | Checks per second | µs per check |
|---|---|---|---|
${
      rows.map((row) =>
        `| ${row.name} | ${row.chainLinks} | ${n0(row.perSecond)} | ${f(row.microsecondsPerCheck, 1)} |`
      ).join("\n")
    }`,
  };
}

export function searchPart(r: SearchBenchResult): Part {
  const typical = r.kinds.filter((k) => !k.adversarial);
  const worst = r.kinds.filter((k) => k.adversarial);
  const worstP99 = Math.max(...worst.map((k) => k.latency.p99));
  const d = r.database;
  const row = (k: KindResult) =>
    `| ${k.kind}${k.adversarial ? " (worst case)" : ""} | \`${k.example}\` | ${f(k.hits, 1)} | ${
      f(k.latency.p50)
    } ms | ${f(k.latency.p99)} ms |`;
  return {
    rows: [
      `| 9 | Search over ${
        n0(r.messages)
      } messages, mix of ${typical.length} query kinds | p99 ≤ 50 ms | p50 ${f(r.overall.p50)} ms, p99 ${
        f(r.overall.p99)
      } ms (over the API: p99 ${f(r.http.p99)} ms) | ${verdict(r.overall.p99 <= 50 && r.http.p99 <= 50)} |`,
      ...(worst.length
        ? [
          `| 9b | Search, worst cases built to be slow (${worst.length} kinds) | p99 ≤ 50 ms | worst p99 ${
            f(worstP99)
          } ms | ${verdict(worstP99 <= 50)} |`,
        ]
        : []),
    ],
    section: `## 9. Search over ${n0(r.messages)} messages

**What it measures.** \`search(h, actor, query)\` (server/search/), the function behind
\`GET /api/search\`, on a real instance opened in-process on a database of ${
      n0(r.messages)
    } messages (built once by bench/search.ts and cached in \`bench/.cache\`: community and channels
created through the API, ${d.options.publicChannels} public and ${d.options.membersOnlyChannels} members-only
channels, ${n0(d.options.members)} member profiles, text drawn from a 30,000-word vocabulary with a Zipf
distribution, one message in twenty with a link, one in fifty with a file). The messages are inserted into
\`message_index\`, so the triggers index them exactly as they index a live instance's writes: that took ${
      f(d.build.insertSeconds, 0)
    } s; a full rebuild (what an upgraded instance's migration runs) ${f(d.build.rebuildSeconds, 0)} s. The
FTS5 index is ${f(d.size.indexMiB, 0)} MiB plus ${
      f(d.size.searchDocsMiB, 0)
    } MiB of \`search_docs\`, beside ${
      f(d.size.messageIndexMiB, 0)
    } MiB of \`message_index\`. Searches run as a signed-out visitor (so the members-only channels are
excluded in every query) unless the kind says "member"; results are newest first, 20 to a page.

| Kind | Example | Hits per page | p50 | p99 |
|---|---|---|---|---|
${[...typical, ...worst].map(row).join("\n")}
| **all kinds but the worst cases** | | | ${f(r.overall.p50)} ms | ${f(r.overall.p99)} ms |
| **GET /api/search, same mix (JSON included)** | | | ${f(r.http.p50)} ms | ${f(r.http.p99)} ms |

**The worst cases.** Results are ordered by an index key (the published time), so a page of a common
word stops after 20 hits wherever they are. Two kinds of query cannot stop early: a date bound far back
in time combined with one of the commonest words (FTS5 reaches a rowid bound by walking that word's whole
posting list, about 40 ms for "the" over a million messages), and a phrase of common words that never
occurs (every message holding all the words is checked for the phrase). Bringing those under 50 ms
would take another index structure (for example, per-month segments); they are reported apart rather
than hidden in the mix.`,
  };
}

export function livePart(runs: LiveResult[]): Part {
  const label = (r: LiveResult) =>
    r.members
      ? `${n0(r.members)} members + ${n0(r.streams - r.members)} visitors`
      : `${n0(r.streams)} visitors`;
  return {
    rows: runs.map((r, i) =>
      `| 8${"abc"[i]} | Post to arrival on ${n0(r.streams)} open live streams (${
        label(r)
      }, ${r.rate} msg/s) | p99 ≤ 200 ms | p50 ${f(r.latency.p50, 1)} ms, p99 ${
        f(r.latency.p99, 1)
      } ms, ${r.missing} missing | ${verdict(r.latency.p99 <= 200 && r.missing === 0)} |`
    ),
    section: `## 8. Live streams: post to arrival on 1,000 open pages

**What it measures.** The instance runs as a separate process. ${
      runs[0]?.processes ?? 4
    } client processes open the pages' own live streams (\`GET /channels/{id}/live\`, server-sent events) over
loopback HTTP on one public channel, as visitors or as signed-in members (whose streams also count for
presence); once every stream has said "ready", the main process posts signed messages through the JSON API
at a steady rate. The latency of each (message, stream) pair is the arrival of the event on that stream minus
the start of the POST (one clock: every process runs on this machine); the first ${
      runs[0]?.warmup ?? 0
    } messages of each run warm the server up and are left out of the figures (not of "Missing"). A message event is rendered once,
viewer-neutral (each page's script keeps the controls its viewer may use), encoded once, and the same bytes
are written to every stream.

| Streams | Messages | Rate | p50 | p90 | p99 | max | Missing | POST p99 | Server RSS idle / streams open / after | Server CPU |
|---|---|---|---|---|---|---|---|---|---|---|
${
      runs.map((r) =>
        `| ${label(r)} | ${r.messages - r.warmup} (+${r.warmup} warm-up) | ${r.rate}/s | ${
          f(r.latency.p50, 1)
        } ms | ${f(r.latency.p90, 1)} ms | ${f(r.latency.p99, 1)} ms | ${
          f(r.latency.max, 1)
        } ms | ${r.missing} | ${f(r.post.p99, 1)} ms | ${f(r.serverRssIdleMiB, 0)} / ${
          f(r.serverRssStreamsMiB, 0)
        } / ${f(r.serverRssAfterMiB, 0)} MiB | ${f(r.serverCpuSeconds, 1)} s |`
      ).join("\n")
    }`,
  };
}
