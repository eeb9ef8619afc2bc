/**
 * The reverse-proxy example (docs/nginx/) does what README says: with
 * nginx in front, a client that sends half its headers, or stops in the
 * middle of a body, is cut off after 10 s (Deno's server would wait for
 * ever), and oversized bodies are refused at the door. nginx comes from
 * Debian's package (`apt-get install -y nginx`; .ci/run installs it) or
 * NGINX_PATH; without it this test fails and says so.
 */
import assert from "node:assert/strict";
import { startTestInstance } from "../helpers/instance.ts";
import { sendBody, stallAfter } from "../helpers/rawHttp.ts";
import { freePort } from "./support.ts";

const docs = new URL("../../docs/nginx/", import.meta.url).pathname;

function nginxPath(): string {
  const candidates = [Deno.env.get("NGINX_PATH"), "/usr/sbin/nginx", "/usr/bin/nginx"].filter(Boolean);
  for (const path of candidates as string[]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  throw new Error(
    "nginx is needed for the reverse-proxy test: apt-get install -y nginx (.ci/run does), or set NGINX_PATH",
  );
}

async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** nginx with the docs' proxy settings in front of `upstreamPort`, in its own directory. */
async function startNginx(upstreamPort: number) {
  const nginx = nginxPath();
  const dir = await Deno.makeTempDir({ prefix: "harmony-nginx-" });
  // Run as root, nginx's workers are "nobody": they must reach the directory.
  await Deno.chmod(dir, 0o755);
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
daemon off;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream harmony { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${port};
    include ${docs}harmony-proxy.conf;
  }
}
`,
  );
  const child = new Deno.Command(nginx, {
    args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", "stderr"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const pumped = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) output += decoder.decode(chunk, { stream: true });
  })();
  child.stdout.cancel();
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (exited) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return {
    port,
    output: () => output,
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGTERM");
      await child.status;
      await pumped;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test({
  name: "reverse proxy (docs/nginx): half-sent headers and bodies are cut after 10 s, big bodies refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using instance = await startTestInstance();
    await using proxy = await startNginx(instance.port);
    const host = "host: chat.example.org";

    await t.step("requests go through to the instance", async () => {
      const response = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
      const text = await response.text();
      assert.equal(response.status, 200, `${text}\n${proxy.output()}`);
      assert.deepEqual(JSON.parse(text), { ok: true });
    });

    await t.step("half-sent headers and a stalled body are cut off within 10 s (+ a margin)", async () => {
      const [headers, body] = await Promise.all([
        stallAfter(proxy.port, `GET /healthz HTTP/1.1\r\n${host}\r\nx-slow: `, 20_000),
        stallAfter(
          proxy.port,
          `POST /api/auth/session HTTP/1.1\r\n${host}\r\ncontent-type: application/json\r\n` +
            'content-length: 1000\r\n\r\n{"presentation":',
          20_000,
        ),
      ]);
      assert.ok(!headers.open, `half-sent headers still open after ${headers.afterMs} ms`);
      assert.ok(headers.afterMs >= 9_000 && headers.afterMs < 14_000, `closed after ${headers.afterMs} ms`);
      assert.ok(!body.open, `a stalled body still open after ${body.afterMs} ms`);
      assert.ok(body.afterMs >= 9_000 && body.afterMs < 14_000, `closed after ${body.afterMs} ms`);
    });

    await t.step("a body over 1 MB is refused by nginx before the instance sees it", async () => {
      const reply = await sendBody(
        proxy.port,
        `POST /ui/join HTTP/1.1\r\n${host}\r\ncontent-type: application/x-www-form-urlencoded`,
        { bytes: 5 * 1024 * 1024, chunked: true },
      );
      assert.equal(reply.status, 413, reply.text.slice(0, 200));
      assert.match(reply.text, /nginx/, "the answer is nginx's");
    });

    await t.step("an upload streams through to the instance's own meter", async () => {
      const reply = await sendBody(
        proxy.port,
        `POST /api/files?channel=nowhere HTTP/1.1\r\n${host}\r\ncontent-type: application/octet-stream`,
        { bytes: 3 * 1024 * 1024, chunked: true },
      );
      // Not nginx's 413: the instance answers (anonymous, so 401) while the body is still coming.
      assert.equal(reply.status, 401, reply.text.slice(0, 300));
    });
  },
});

Deno.test("reverse proxy (docs/nginx): the example site configuration is valid", async () => {
  const nginx = nginxPath();
  const dir = await Deno.makeTempDir({ prefix: "harmony-nginx-site-" });
  try {
    const cert = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=chat.example.org",
      "-keyout",
      `${dir}/privkey.pem`,
      "-out",
      `${dir}/fullchain.pem`,
    ]);
    assert.equal(cert.code, 0, cert.output);
    const site = (await Deno.readTextFile(`${docs}harmony.conf`))
      .replaceAll("/etc/letsencrypt/live/chat.example.org/", `${dir}/`)
      .replaceAll("/etc/nginx/snippets/harmony-proxy.conf", `${docs}harmony-proxy.conf`);
    await Deno.writeTextFile(`${dir}/site.conf`, site);
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      `pid ${dir}/nginx.pid;\nevents {}\nhttp {\n  include ${dir}/site.conf;\n}\n`,
    );
    const checked = await run(nginx, ["-t", "-p", dir, "-c", `${dir}/nginx.conf`, "-e", "stderr"]);
    assert.equal(checked.code, 0, checked.output);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
