/** A throwaway certificate authority and a server certificate it signed, made with the system's OpenSSL. */

export interface TestCertificates {
  /** The authority's certificate (PEM): trust it to accept `cert`. */
  ca: string;
  /** A server certificate (PEM) for `names`, and its key. */
  cert: string;
  key: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
  if (!success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
}

export async function testCertificates(names: string[]): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "harmony-tls-" });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await openssl(
      dir,
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=Harmony test CA",
    );
    await openssl(dir, "req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", `/CN=${names[0]}`);
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nbasicConstraints=CA:FALSE\n`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "cert.pem",
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
    );
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
    return { ca: await read("ca.pem"), cert: await read("cert.pem"), key: await read("key.pem") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
