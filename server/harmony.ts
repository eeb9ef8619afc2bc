import type { Database, Tx } from "../db/client.ts";
import type { Config } from "./config.ts";
import { EventHub } from "./shared/events.ts";
import { Iris } from "./rdf/iris.ts";
import { loadSnapshot, type Snapshot } from "./community/snapshot.ts";
import { OpWriter } from "./messages/opWriter.ts";
import { localProofs, type Proofs } from "./proofs/mod.ts";
import { Outbound, type OutboundOptions } from "./net/outbound.ts";

/**
 * One running instance: configuration, database, live event hub and the
 * cached community snapshot. Domain modules take it as their first
 * argument; nothing in here speaks HTTP or ActivityPub.
 */
export class Harmony {
  readonly iris: Iris;
  readonly hub = new EventHub();
  /** The one writer of message operations (local and bridged). */
  readonly ops: OpWriter = new OpWriter(this);
  #snapshot: Promise<Snapshot> | null = null;
  #generation = 0;

  /**
   * Capability and credential proofs (proofs/mod.ts): a worker in a started
   * instance, the calling thread otherwise.
   */
  readonly proofs: Proofs;

  /** Every request to another server goes through it, connected to the addresses the policy checked. */
  readonly outbound: Outbound;

  constructor(
    readonly config: Config,
    readonly database: Database,
    options: { proofs?: Proofs; outbound?: Partial<OutboundOptions> } = {},
  ) {
    this.proofs = options.proofs ?? localProofs;
    this.iris = new Iris(config.origin);
    this.outbound = new Outbound({ allowPrivate: config.allowPrivateAddresses, ...options.outbound });
  }

  get db() {
    return this.database.db;
  }

  /** Counts committed writes to the community graphs: caches derived from them compare it. */
  get communityGeneration(): number {
    return this.#generation;
  }

  snapshot(): Promise<Snapshot> {
    if (this.#snapshot) return this.#snapshot;
    const generation = this.#generation;
    const loading = loadSnapshot(this.database.db, this.iris);
    this.#snapshot = loading;
    loading.then(
      () => {
        if (generation !== this.#generation && this.#snapshot === loading) this.#snapshot = null;
      },
      () => {
        if (this.#snapshot === loading) this.#snapshot = null;
      },
    );
    return loading;
  }

  /** Runs a write that changes the community or profiles graph. */
  async writeCommunity<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.database.write(fn);
    } finally {
      this.#generation++;
      this.#snapshot = null;
      this.hub.publishCommunity({ kind: "community" });
    }
  }
}
