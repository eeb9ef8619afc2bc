/**
 * Files: upload and download throughput over HTTP (stream, SHA-256, sniff,
 * AES-256-GCM in 64 KiB chunks, local disk) for a 1 MB and a 10 MB file,
 * and the resident memory the process grew by while a 10 MB upload streamed.
 */
import { claimedInstance, memberOf } from "../tests/helpers/instance.ts";

export interface FilesBenchRow {
  size: string;
  runs: number;
  uploadMedianMs: number;
  uploadMBps: number;
  downloadMedianMs: number;
  downloadMBps: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchFiles(runs = 10): Promise<{ rows: FilesBenchRow[]; rssGrowthMB: number }> {
  const { instance, owner } = await claimedInstance();
  try {
    const member = await memberOf(instance, owner);
    await owner.setFileLimits({ maxFileSize: 64 * 1024 * 1024 });
    const general = (await owner.channels())[0];
    const rows: FilesBenchRow[] = [];
    let rssGrowthMB = 0;
    for (const megabytes of [1, 10]) {
      const bytes = crypto.getRandomValues(new Uint8Array(65536));
      const body = new Uint8Array(megabytes * 1024 * 1024);
      for (let at = 0; at < body.length; at += bytes.length) body.set(bytes, at);
      const uploads: number[] = [];
      const downloads: number[] = [];
      for (let i = 0; i < runs; i++) {
        const rssBefore = Deno.memoryUsage().rss;
        let t = performance.now();
        const descriptor = await member.upload(general.id, body, `bench-${i}.bin`);
        uploads.push(performance.now() - t);
        if (megabytes === 10) rssGrowthMB = Math.max(rssGrowthMB, (Deno.memoryUsage().rss - rssBefore) / 1e6);
        await member.post(general.id, "bench", [descriptor]);
        t = performance.now();
        const response = await member.download(descriptor.url);
        let received = 0;
        for await (const chunk of response.body!) received += chunk.length;
        downloads.push(performance.now() - t);
        if (received !== body.length) throw new Error("short download");
      }
      const mb = body.length / 1e6;
      rows.push({
        size: `${megabytes} MiB`,
        runs,
        uploadMedianMs: Math.round(median(uploads)),
        uploadMBps: Math.round(mb / (median(uploads) / 1000)),
        downloadMedianMs: Math.round(median(downloads)),
        downloadMBps: Math.round(mb / (median(downloads) / 1000)),
      });
    }
    return { rows, rssGrowthMB: Math.round(rssGrowthMB) };
  } finally {
    await instance.close();
  }
}

if (import.meta.main) {
  const { rows, rssGrowthMB } = await benchFiles(Number(Deno.args[0] ?? 10));
  console.table(rows);
  console.log(`RSS growth during a 10 MiB upload (client and server in one process): ${rssGrowthMB} MB`);
}
