import { mkdirSync } from "node:fs";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

describe("sample signals from the empty feed, in Chromium", () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    e2e = await startE2E();
    context = await e2e.context(phone);
    page = await context.newPage();
  });
  afterAll(async () => e2e?.close());

  it("replays them into demo sources; the agents' cards arrive live, marked as demo cards", async () => {
    await page.goto(e2e.server.url);
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
    await page.getByRole("button", { name: "Replay sample signals" }).tap();
    // The agents read the samples after the answer: their cards come over the live stream, the
    // first at once, the others behind the "new" pill (what is on screen stays put).
    await page.locator("article h2").first().waitFor({ timeout: 30_000 });
    const pill = page.getByRole("button", { name: /^\d+ new/ });
    await expect
      .poll(async () => ((await pill.count()) ? await pill.textContent() : ""), { timeout: 30_000 })
      .toMatch(/^3 new/);
    await pill.tap();
    await expect.poll(() => page.locator("article h2").count()).toBe(4);
    // The rollback card tops the feed; it tells all seven errors once the agents have read them.
    await expect
      .poll(() => page.locator("article h2").first().textContent(), { timeout: 30_000 })
      .toMatch(/^New TypeError ×7 \(7 users\) and signup_success dropped \d+% \d+ min after push c0ffee4/);
    const titles = await page.locator("article h2").allTextContents();
    expect(titles).toContain('6 customers asked for "dark mode" this week');
    const first = page.locator("article").first();
    expect(await first.getByText(/^Demo card: accepting only rehearses this/).count()).toBe(1);
    // Its chart: signup_success with the drop marked.
    expect(await first.getByRole("slider", { name: /signup_success/ }).count()).toBe(1);
    await page.screenshot({ path: path.join(shots, "demo-signals-phone.png") });

    await page.goto(`${e2e.server.url}/settings`);
    const source = page.getByRole("article", { name: "Source Demo metrics" });
    await source.getByText("demo (sample signals)").waitFor();
    await page.getByRole("button", { name: "Remove demo data" }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, "settings-demo-phone.png") });

    // Done looking: one button takes it all away again, after asking.
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Remove demo data" }).tap();
    await page
      .getByText("Demo data removed: 4 sources with their signals, 4 waiting cards withdrawn.")
      .waitFor();
    expect(await page.getByRole("article", { name: /^Source Demo/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Remove demo data" }).count()).toBe(0);
    await page.goto(e2e.server.url);
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
  });
});
