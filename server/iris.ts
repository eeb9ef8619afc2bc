/** The IRIs this instance mints, all under its public origin. */
export class Iris {
  constructor(readonly origin: string) {}
  get community(): string {
    return `${this.origin}/community`;
  }
  get profiles(): string {
    return `${this.origin}/profiles`;
  }
  /** Avatar images live apart from profiles, so loading profiles stays cheap. */
  get avatars(): string {
    return `${this.origin}/avatars`;
  }
  channel(id: string): string {
    return `${this.origin}/channels/${id}`;
  }
  channelId(iri: string): string | null {
    const prefix = `${this.origin}/channels/`;
    return iri.startsWith(prefix) ? iri.slice(prefix.length) : null;
  }
  invite(code: string): string {
    return `${this.origin}/invites/${code}`;
  }
}
