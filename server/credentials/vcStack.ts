/**
 * What admit.ts and status.ts verify presented credentials with, loaded on
 * first use (`await import`): an instance whose members never join by
 * presenting a credential never loads the JSON-LD stack on its main thread.
 * Issuing and capability proofs go through the proof service instead
 * (server/proofs/mod.ts).
 */
export * as vc from "@digitalbazaar/vc";
export { checkStatus as checkListStatus } from "@digitalbazaar/vc-bitstring-status-list";
export { default as jsonld } from "jsonld";
export { createDocumentLoader } from "../capabilities/loader.ts";
export { credentialVerifySuites } from "./suites.ts";
