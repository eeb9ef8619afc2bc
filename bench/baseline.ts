/**
 * An earlier commit's server, to measure a change against it in the same run
 * on the same machine (figures from different days and loads do not compare).
 *
 * The commit is extracted with `git archive` into bench/.cache/baseline-<commit>
 * (once; Deno fills its node_modules from the shared cache on first start).
 */
import { progress, repoRoot } from "./lib.ts";

/**
 * The last commit before capability-based authorization (issue 4): posting
 * throughput "from the foundation" is measured against it.
 */
export const BEFORE_AUTHORITY = "1badfe3";

export async function ensureBaseline(commit: string): Promise<{ root: string; commit: string }> {
  const full = await git(["rev-parse", "--verify", `${commit}^{commit}`]);
  const root = `${repoRoot}/bench/.cache/baseline-${full.slice(0, 12)}`;
  try {
    await Deno.stat(`${root}/server/main.ts`);
    return { root, commit: full };
  } catch { /* not extracted yet */ }
  progress(`baseline: extracting ${full.slice(0, 12)} into ${root}`);
  const partial = `${root}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.mkdir(partial, { recursive: true });
  const archive = new Deno.Command("git", {
    args: ["-C", repoRoot, "archive", "--format=tar", full],
    stdout: "piped",
  }).spawn();
  const tar = new Deno.Command("tar", { args: ["-x", "-C", partial], stdin: "piped" }).spawn();
  await archive.stdout.pipeTo(tar.stdin);
  const [a, t] = await Promise.all([archive.status, tar.status]);
  if (!a.success || !t.success) throw new Error(`could not extract ${full} (git archive | tar failed)`);
  await Deno.rename(partial, root);
  return { root, commit: full };
}

async function git(args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args: ["-C", repoRoot, ...args], stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}
