import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApp } from "@flick/server/app";
import { loadConfig } from "@flick/server/config";
import { createLogger } from "@flick/server/logger";
import { WebAssets } from "@flick/server/web-static";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drivers, FakeClock, freshDatabase, LogCapture } from "../helpers/harness.ts";

describe.each(drivers)("health on %s", (driver) => {
  it("answers healthz always and readyz while the database answers", async () => {
    const { handle, drop } = await freshDatabase(driver);
    const app = createApp({
      config: loadConfig({}),
      database: handle,
      logger: createLogger({ level: "silent", destination: new LogCapture() }),
      clock: new FakeClock(),
    });
    expect((await app.request("/healthz")).status).toBe(200);
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, database: driver });
    await drop();
    const down = await app.request("/readyz");
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: "unavailable" } });
  });
});

describe("serving the web app", () => {
  let app: ReturnType<typeof createApp>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const dist = mkdtempSync(path.join(tmpdir(), "flick-web-"));
    mkdirSync(path.join(dist, "assets"));
    writeFileSync(
      path.join(dist, "index.html"),
      `<!doctype html><title>Flick</title>${"<!-- pad -->".repeat(200)}`,
    );
    writeFileSync(
      path.join(dist, "assets", "app-abc123.js"),
      `console.log(${JSON.stringify("x".repeat(5000))});`,
    );
    const { handle, drop } = await freshDatabase("pglite");
    close = drop;
    app = createApp(
      {
        config: loadConfig({}),
        database: handle,
        logger: createLogger({ level: "silent", destination: new LogCapture() }),
        clock: new FakeClock(),
      },
      { web: WebAssets.load(dist) },
    );
  });
  afterAll(async () => close());

  it("serves index.html for app routes with a CSP that forbids inline scripts", async () => {
    const res = await app.request("/invite");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(await res.text()).toContain("<title>Flick</title>");
  });

  it("serves hashed assets compressed and cacheable forever, and honours ETags", async () => {
    const res = await app.request("/assets/app-abc123.js", { headers: { "accept-encoding": "gzip, br" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("br");
    expect(res.headers.get("cache-control")).toContain("immutable");
    const etag = res.headers.get("etag") ?? "";
    const again = await app.request("/assets/app-abc123.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("never answers /api/ with the app shell", async () => {
    const res = await app.request("/api/does-not-exist");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers 404 for a missing file rather than the shell", async () => {
    expect((await app.request("/assets/missing.js")).status).toBe(404);
  });
});
