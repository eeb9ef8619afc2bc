/** Root capability ids: `urn:zcap:root:` + the URI-encoded target (loader.ts answers them). */
export const ROOT_PREFIX = "urn:zcap:root:";

/** The id of the root capability of `target`. */
export function rootCapabilityId(target: string): string {
  return `${ROOT_PREFIX}${encodeURIComponent(target)}`;
}
