/** Durations for people, in refusals ("wait 3 minutes 20 seconds"). */

/** "3 minutes 20 seconds", "2 hours 5 minutes", "4 days 1 hour": at most the two largest units. */
export function formatDuration(ms: number): string {
  let seconds = Math.max(1, Math.ceil(ms / 1000));
  const units: Array<[string, number]> = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const parts: string[] = [];
  for (const [name, size] of units) {
    const n = Math.floor(seconds / size);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
      seconds -= n * size;
    } else if (parts.length) break;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}
