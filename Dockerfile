# Harmony: one image, one instance. Data lives in the /data volume.
FROM denoland/deno:debian-2.9.6

WORKDIR /app
ENV DENO_DIR=/deno-dir \
    PORT=8000 \
    DATABASE_URL=file:/data/harmony.db

# OpenSSL 3's libcrypto signs HTTP signatures for federation (federation/opensslRsa.ts); without it
# the instance falls back to WebCrypto, about six times slower per signature.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*

COPY . .
# Fetch every dependency (npm packages, the libSQL binding, and the bundler
# the instance uses for its browser script) at build time, so the container
# starts without network access.
RUN deno install --entrypoint server/main.ts cli/harmony.ts server/exchange/import.ts \
 && deno eval 'const r = await Deno.bundle({ entrypoints: ["./static/client/main.ts"], platform: "browser", write: false }); if (!r.success) Deno.exit(1);' \
 && mkdir -p /data \
 && chown -R deno:deno /data /app /deno-dir

USER deno
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8000}/healthz`); if (!r.ok) Deno.exit(1);"]
CMD ["deno", "task", "start"]
