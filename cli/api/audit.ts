/** The audit log: read it page by page and verify it here, or ask the server for its own check. */
import type { HarmonyClient } from "../client.ts";
import type { AuditEntry } from "../../server/audit/chain.ts";
import { type Verification, verifyEntries } from "../../server/audit/verify.ts";

export class AuditApi {
  /** One page of the audit log, oldest first. */
  auditPage(this: HarmonyClient, after = 0, limit = 500): Promise<AuditPageJson> {
    return this.request("GET", `/audit?after=${after}&limit=${limit}`);
  }

  /** The whole audit log, page by page. */
  async auditLog(this: HarmonyClient): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: AuditPageJson = await this.auditPage(after);
      entries.push(...page.entries);
      after = page.next;
    }
    return entries;
  }

  /** Fetches the whole log and checks it here: the chain and every signature (nothing taken on trust). */
  async verifyAudit(this: HarmonyClient): Promise<Verification & { entries: number }> {
    const community = await this.request<{ iri: string; did: string }>("GET", "/community");
    const entries = await this.auditLog();
    const result = await verifyEntries(entries, { community: community.iri });
    return { ...result, entries: entries.length };
  }

  /** The server's own check of its log (chain, signatures, table against quads). */
  serverAuditVerification(this: HarmonyClient): Promise<Verification> {
    return this.request("GET", "/audit/verify");
  }
}

export interface AuditPageJson {
  entries: AuditEntry[];
  next: number | null;
  head: { seq: number; hash: string } | null;
}
