import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2E, startE2E } from "../helpers/e2e.ts";
import { repoRoot } from "../helpers/server-process.ts";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; the app's CSP is bypassed for this test context only, to inject it. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: Violation[];
  };
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")}`,
    );
}

describe("accessibility of the main screens (axe-core)", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(async () => e2e?.close());

  const open = async (viewport: { width: number; height: number }, signedIn: boolean, url = "/") => {
    const context = await e2e.context({ viewport, bypassCSP: true, colorScheme: "dark" }, signedIn);
    const page = await context.newPage();
    await page.goto(`${e2e.server.url}${url}`);
    return page;
  };

  it("sign-in form", async () => {
    const page = await open({ width: 390, height: 844 }, false, "/login");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // The check itself can fail: an image without alt text is reported.
    await page.evaluate(
      "document.body.append(Object.assign(document.createElement('img'), { src: '/icon-192.png' }))",
    );
    expect((await seriousViolations(page)).join("\n")).toContain("image-alt");
    await page.context().close();
  });

  it("empty feed, then the phone feed with cards, then the desktop review", async () => {
    const empty = await open({ width: 390, height: 844 }, true);
    await empty.getByRole("heading", { name: "Nothing to review" }).waitFor();
    expect(await seriousViolations(empty)).toEqual([]);
    await empty.getByRole("button", { name: "Load demo data" }).click();
    await empty.locator("[data-card-id]").first().waitFor();
    expect(await seriousViolations(empty)).toEqual([]);
    await empty.context().close();

    const desk = await open({ width: 1280, height: 800 }, true);
    await desk.getByRole("navigation", { name: "Cards" }).waitFor();
    expect(await seriousViolations(desk)).toEqual([]);

    // A patch card's diff opens side by side on a wide screen (and stays accessible);
    // unified is one click away.
    await desk
      .getByRole("navigation", { name: "Cards" })
      .getByText(/^Cart total ignores quantity/)
      .click();
    const patch = desk.locator("[data-card-id]").filter({ hasText: "Cart total ignores quantity" });
    await patch.getByText("Show the diff").click();
    const table = patch.getByRole("table", { name: "Side-by-side diff" });
    await table.waitFor();
    const changed = table.locator("tr[data-kind=change]").first();
    // What the changed line changed, marked: the words added to it.
    expect(await changed.locator("mark").allTextContents()).toEqual([" * (item.quantity ?? 1)"]);
    // Code can be selected (a double click takes a word), its line numbers not — the card around
    // it cannot be, as it is swiped; the view's styles came with it when first opened.
    const selected = () => desk.evaluate(() => String(getSelection()));
    await changed
      .locator("td")
      .nth(1)
      .dblclick({ position: { x: 40, y: 8 } });
    expect(await selected()).toMatch(/^\w+\s*$/);
    await desk.evaluate(() => getSelection()?.removeAllRanges());
    await changed.locator("td").nth(0).dblclick();
    expect(await selected()).toBe("");
    // Each side with its line number (the hunk starts at line 3 on both sides).
    expect(await changed.locator("td").allTextContents()).toEqual([
      "4",
      expect.stringContaining("item.price, 0)"),
      "4",
      expect.stringContaining("item.price * (item.quantity ?? 1)"),
    ]);
    expect(await seriousViolations(desk)).toEqual([]);
    // A long line wraps between words where it can: "Item[]" is not split across two rows.
    const splitWords = await table
      .locator("tr[data-kind=context]")
      .first()
      .evaluate((tr) => {
        const cell = tr.children[1] as HTMLElement;
        const text = cell.firstChild as Text;
        const at = (text.textContent ?? "").indexOf("Item[]");
        const range = document.createRange();
        range.setStart(text, at);
        range.setEnd(text, at + "Item[]".length);
        return { at, rows: new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size };
      });
    expect(splitWords).toEqual({ at: expect.any(Number), rows: 1 });
    expect(splitWords.at).toBeGreaterThan(0);
    await desk.screenshot({ path: path.join(repoRoot, "test/.artifacts/feed-desktop-diff.png") });
    await patch.getByRole("button", { name: "Unified" }).click();
    await expect.poll(() => table.count()).toBe(0);
    // Unified: the removed line numbered on the old side, the added one on the new.
    const unified = patch.getByRole("table", { name: "Unified diff" });
    expect(await unified.locator("tr[data-kind=del] td").allTextContents()).toEqual([
      "4",
      "",
      expect.stringMatching(/^-\s+return items\.reduce\(\(sum, item\) => sum \+ item\.price, 0\);$/),
    ]);
    expect(await unified.locator("tr[data-kind=add] td").first().textContent()).toBe("");
    expect(await unified.locator("tr[data-kind=add] td").nth(1).textContent()).toBe("4");
    expect(await seriousViolations(desk)).toEqual([]);
    await desk.screenshot({ path: path.join(repoRoot, "test/.artifacts/feed-desktop-diff-unified.png") });
    // The layout chosen is kept on this device: after a reload the diff opens unified again.
    await desk.reload();
    await desk
      .getByRole("navigation", { name: "Cards" })
      .getByText(/^Cart total ignores quantity/)
      .click();
    await patch.getByText("Show the diff").click();
    await unified.waitFor();
    expect(await table.count()).toBe(0);
    await desk.context().close();
  });

  it("settings, with a source and an action listed", async () => {
    await e2e.api("/api/sources", {
      method: "POST",
      body: JSON.stringify({ kind: "webhook", name: "Deploys" }),
    });
    await e2e.api("/api/actions", {
      method: "POST",
      body: JSON.stringify({ name: "rollback", url: "https://deploy.example/rollback" }),
    });
    const page = await open({ width: 390, height: 844 }, true, "/settings");
    await page.getByRole("article", { name: "Action rollback" }).waitFor();
    const deploys = page.getByRole("article", { name: "Source Deploys" });
    // Its settings open: the webhook mapping form and what a delivery becomes.
    await deploys.getByText("Settings", { exact: true }).click();
    await deploys.getByText(/^Nothing received yet: send a delivery/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });
});
