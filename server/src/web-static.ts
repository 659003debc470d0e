import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Context } from "hono";

type Bytes = Uint8Array<ArrayBuffer>;

interface Asset {
  body: Bytes;
  br?: Bytes;
  gzip?: Bytes;
  type: string;
  etag: string;
  immutable: boolean;
}

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

const compressible = /^(text\/|application\/(json|manifest\+json)|image\/svg)/;

/** No inline script or style anywhere in the app, so the policy can forbid both. */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The built web app, read into memory once at start with brotli and gzip variants made up front:
 * the dist folder is small and this keeps every asset request free of disk and CPU work.
 */
export class WebAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(readonly root: string) {
    this.walk(root);
  }

  static load(root: string | undefined): WebAssets | null {
    if (!root || !existsSync(path.join(root, "index.html"))) return null;
    return new WebAssets(root);
  }

  private walk(dir: string): void {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        this.walk(full);
        continue;
      }
      const rel = `/${path.relative(this.root, full).split(path.sep).join("/")}`;
      const body = new Uint8Array(readFileSync(full));
      const type = types[path.extname(name)] ?? "application/octet-stream";
      const asset: Asset = {
        body,
        type,
        etag: `"${createHash("sha1").update(body).digest("base64url")}"`,
        // Vite puts content-hashed files under /assets/; everything else may change between releases.
        immutable: rel.startsWith("/assets/"),
      };
      if (compressible.test(type) && body.length > 1024) {
        asset.br = new Uint8Array(
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
        asset.gzip = new Uint8Array(gzipSync(body, { level: 9 }));
      }
      this.assets.set(rel, asset);
    }
  }

  /** Serves a file, or index.html for app routes (paths without a file extension). */
  respond(c: Context): Response | null {
    const reqPath = decodeURIComponent(c.req.path);
    let asset = this.assets.get(reqPath);
    if (!asset && path.extname(reqPath) === "") asset = this.assets.get("/index.html");
    if (!asset) return null;

    const headers = new Headers({
      "Content-Type": asset.type,
      ETag: asset.etag,
      "Cache-Control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      Vary: "Accept-Encoding",
    });
    if (asset.type.startsWith("text/html")) headers.set("Content-Security-Policy", contentSecurityPolicy);
    if (c.req.header("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });

    const accept = c.req.header("accept-encoding") ?? "";
    let body = asset.body;
    if (asset.br && /\bbr\b/.test(accept)) {
      body = asset.br;
      headers.set("Content-Encoding", "br");
    } else if (asset.gzip && /\bgzip\b/.test(accept)) {
      body = asset.gzip;
      headers.set("Content-Encoding", "gzip");
    }
    headers.set("Content-Length", String(body.length));
    return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers });
  }
}
