import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Decision } from "@flick/shared";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initialAssets } from "../bench/web.ts";
import { type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

describe("installable, offline-capable PWA in Chromium", () => {
  let e2e: E2E;
  let server: E2E["server"];
  let context: BrowserContext;
  let page: Page;
  const api = <T>(p: string, init?: RequestInit) => e2e.api<T>(p, init);

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    e2e = await startE2E({ demo: true });
    server = e2e.server;
    context = await e2e.context(phone);
    page = await context.newPage();
  });
  afterAll(async () => e2e?.close());

  it("loads a small first script: what index.html loads is at most 36 KB of JavaScript gzipped", () => {
    // 31.6 KB when this was written (`pnpm bench web` measures it and the first paint); a value
    // import from the shared package's index once pulled every zod schema in, at 60 KB.
    const sizes = initialAssets(path.join(repoRoot, "test/.e2e-web-dist"));
    expect(sizes.jsGz).toBeGreaterThan(10_000);
    expect(sizes.jsGz).toBeLessThanOrEqual(36 * 1024);
  });

  it("serves a manifest with icons and registers a service worker that controls the page", async () => {
    const res = await fetch(`${server.url}/manifest.webmanifest`);
    expect(res.headers.get("content-type")).toContain("application/manifest+json");
    const manifest = (await res.json()) as {
      display: string;
      start_url: string;
      icons: { src: string; sizes: string }[];
    };
    expect(manifest).toMatchObject({ display: "standalone", start_url: "/" });
    for (const icon of manifest.icons) {
      const img = await fetch(`${server.url}${icon.src}`);
      expect(img.headers.get("content-type"), icon.src).toBe("image/png");
    }
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));

    await page.goto(server.url);
    await page.locator("[data-card-id]").first().waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.locator("[data-card-id]").first().waitFor();
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(
      `${server.url}/sw.js`,
    );
  });

  it("keeps a decision made offline and sends it exactly once when back online", async () => {
    const id = (await page.locator("[data-card-id]").first().getAttribute("data-card-id")) ?? "";
    await context.setOffline(true);
    await page.locator(`[data-card-id="${id}"]`).getByRole("button", { name: "Accept" }).tap();
    await page.getByTestId("offline-banner").filter({ hasText: "Offline · 1 decision waiting" }).waitFor();
    await expect.poll(() => page.locator(`[data-card-id="${id}"]`).count()).toBe(0);
    await page.screenshot({ path: path.join(shots, "pwa-offline-waiting.png") });
    expect((await api<{ decisions: Decision[] }>(`/api/cards/${id}/history`)).decisions).toEqual([]);

    // The shell and the last feed still open with no network.
    await page.reload();
    await page.getByTestId("offline-banner").filter({ hasText: "1 decision waiting" }).waitFor();
    expect(await page.locator("[data-card-id]").count()).toBeGreaterThan(0);
    expect(await page.locator(`[data-card-id="${id}"]`).count()).toBe(0);
    // A patch's diff opens offline too: its code is loaded when first opened, from the service
    // worker's precache.
    const patchId = await page
      .locator("[data-card-id]")
      .filter({ hasText: "Show the diff" })
      .first()
      .getAttribute("data-card-id");
    const patch = page.locator(`[data-card-id="${patchId}"]`);
    await patch.getByText("Show the diff").click();
    const added = patch.getByRole("table", { name: "Unified diff" }).locator("tr[data-kind=add]").first();
    await added.waitFor();
    // (its styles too: the added line in the accept colour, not the text's)
    const colour = (el: Element) => getComputedStyle(el).color;
    expect(await added.evaluate(colour)).not.toBe(await patch.locator("h2").evaluate(colour));

    await context.setOffline(false);
    await expect.poll(() => page.getByTestId("offline-banner").count(), { timeout: 15_000 }).toBe(0);
    const history = await api<{ decisions: Decision[] }>(`/api/cards/${id}/history`);
    expect(history.decisions.map((d) => [d.verdict, d.client])).toEqual([["accept", "web"]]);
    // A second flush (another online event, a reload) sends nothing again.
    await page.reload();
    await page.locator("[data-card-id]").first().waitFor();
    expect((await api<{ decisions: Decision[] }>(`/api/cards/${id}/history`)).decisions).toHaveLength(1);
  });

  it("never answers an /api/ navigation with the cached app shell", async () => {
    const res = await page.goto(`${server.url}/api/does-not-exist`);
    expect(res?.headers()["content-type"]).toContain("application/json");
    expect(await page.textContent("body")).toContain('"code":"not_found"');
  });
});
