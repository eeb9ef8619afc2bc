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
  /** Fediverse followers of the channels. */
  get followers(): string {
    return `${this.origin}/followers`;
  }
  /** Cached names of fediverse actors whose replies entered a channel. */
  get remoteActors(): string {
    return `${this.origin}/remote-actors`;
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
  /** Roles, and the capabilities members hold in the community. */
  get authority(): string {
    return `${this.origin}/authority`;
  }
  role(slug: string): string {
    return `${this.origin}/roles/${slug}`;
  }
  /**
   * Capability targets: the community (root) and, under it, each channel,
   * so a capability can be narrowed to one channel (ZCAP target attenuation).
   */
  get communityTarget(): string {
    return this.community;
  }
  channelTarget(channelId: string): string {
    return `${this.community}/channels/${channelId}`;
  }
  /** Capabilities this instance granted and installed for bridged channels. */
  get bridges(): string {
    return `${this.origin}/bridges`;
  }
  /** The ActivityPub actor of a channel (a Group), and its inbox: a bridge's invocation target. */
  channelActor(id: string): string {
    return `${this.origin}/ap/actors/${id}`;
  }
  channelInbox(id: string): string {
    return `${this.channelActor(id)}/inbox`;
  }
  /** The channel id of one of our channel actors or inboxes, if it is one. */
  channelIdOfActor(url: string): string | null {
    const match = /^\/ap\/actors\/([a-z2-7]{10})(?:\/inbox)?$/.exec(
      url.startsWith(this.origin) ? url.slice(this.origin.length) : "",
    );
    return match ? match[1] : null;
  }
}
