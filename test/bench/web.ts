import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { phone, startE2E } from "../helpers/e2e.ts";
import { repoRoot } from "../helpers/server-process.ts";
import { round, type Table, writeReport } from "./lib.ts";

/** Initial JS and CSS: what index.html loads before anything else, raw and gzipped. */
export function initialAssets(dist: string) {
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
  let js = 0;
  let jsGz = 0;
  let css = 0;
  let cssGz = 0;
  for (const ref of refs) {
    const body = readFileSync(path.join(dist, ref));
    const gz = gzipSync(body, { level: 9 }).length;
    if (ref.endsWith(".js")) {
      js += body.length;
      jsGz += gz;
    } else {
      css += body.length;
      cssGz += gz;
    }
  }
  return { js, jsGz, css, cssGz };
}

export async function run(): Promise<void> {
  const e2e = await startE2E({ demo: true, env: { LOG_LEVEL: "warn" } });
  const sizes = initialAssets(path.join(repoRoot, "test/.e2e-web-dist"));
  try {
    const paints: number[] = [];
    let longTasks: number[] = [];
    let fps = 0;
    for (let i = 0; i < 3; i++) {
      // A fresh context each time: no service worker, no cache — a first visit.
      const context = await e2e.context(phone);
      await context.addInitScript(() => {
        const w = window as unknown as { __long: number[] };
        w.__long = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) w.__long.push(e.duration);
        }).observe({ type: "longtask", buffered: true });
      });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
      await cdp.send("Network.enable");
      // Lighthouse's "slow 4G": 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up.
      await cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: 150,
        downloadThroughput: (1.6 * 1024 * 1024) / 8,
        uploadThroughput: (750 * 1024) / 8,
      });
      await page.goto(e2e.server.url);
      await page.locator("[data-card-id] h2").first().waitFor();
      paints.push(await page.evaluate(() => performance.now()));

      if (i === 2) {
        // Swipe a card back and forth (below the commit threshold) while counting frames.
        await page.evaluate(() => {
          (window as unknown as { __long: number[] }).__long = [];
        });
        const box = await page.locator("[data-card-id]").first().boundingBox();
        if (!box) throw new Error("no card");
        const y = box.y + box.height / 3;
        const x0 = box.x + box.width / 2;
        // A string, not a function: the bench runs through tsx, whose helpers do not exist in the page.
        const frames = page.evaluate(`new Promise((resolve) => {
          let n = 0;
          const start = performance.now();
          const tick = () => {
            n++;
            if (performance.now() - start < 1000) requestAnimationFrame(tick);
            else resolve(n / ((performance.now() - start) / 1000));
          };
          requestAnimationFrame(tick);
        })`) as Promise<number>;
        await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: x0, y }] });
        for (let s = 0; s < 50; s++) {
          const dx = Math.sin((s / 50) * Math.PI * 2) * 90;
          await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: x0 + dx, y }] });
        }
        await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
        fps = await frames;
        longTasks = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
      }
      await context.close();
    }
    paints.sort((a, b) => a - b);
    const median = paints[1] ?? Number.NaN;
    const tables: Table[] = [
      {
        title: "Web app: size and first paint of a card",
        columns: [
          "initial JS",
          "gzipped",
          "CSS",
          "gzipped",
          "first card painted (median of 3)",
          "long tasks > 50 ms while swiping",
          "frames/s while swiping",
        ],
        rows: [
          [
            `${round(sizes.js / 1024)} KB`,
            `${round(sizes.jsGz / 1024)} KB`,
            `${round(sizes.css / 1024)} KB`,
            `${round(sizes.cssGz / 1024)} KB`,
            `${Math.round(median)} ms`,
            longTasks.filter((d) => d > 50).length,
            round(fps),
          ],
        ],
        notes: [
          "Headless Debian Chromium, phone viewport, 4× CPU throttling and Lighthouse's slow-4G profile (150 ms RTT, 1.6 Mbit/s) against the local server; first visit (no service worker yet).",
          "First card painted: performance.now() when the first card's title is in the DOM and visible.",
          "Headless Chromium has no display, so frames/s is requestAnimationFrame's rate under throttling, not a GPU compositor measurement.",
        ],
      },
    ];
    console.log(writeReport("web", { sizes, paints, longTasks, fps }, tables));
  } finally {
    await e2e.close();
  }
}
