import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Card, Decision } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktop, type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

/** A moment as read on a clock in `timeZone`: its day and its time ("2026-11-30 09:00"). */
const readIn = (at: string | number, timeZone: string) =>
  new Intl.DateTimeFormat("sv-SE", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(at));

describe("snoozing a card until a time chosen from Later's menu, in Chromium", () => {
  let e2e: E2E;
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    e2e = await startE2E({ demo: true });
  });
  afterAll(async () => e2e?.close());

  const lastDecision = async (id: string) =>
    (await e2e.api<{ decisions: Decision[] }>(`/api/cards/${id}/history`)).decisions.at(-1);

  it("on a phone in Paris: the ▾ beside Later offers tomorrow morning, and the card sleeps until 9:00 there", async () => {
    const context = await e2e.context({ ...phone, timezoneId: "Europe/Paris" });
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const card = page.locator("article[data-card-id]").first();
    await card.locator("h2").waitFor();
    const id = (await card.getAttribute("data-card-id")) as string;
    await card.getByRole("button", { name: "Snooze until…" }).tap();
    const menu = card.getByRole("menu", { name: "Snooze until" });
    await menu.waitFor();
    const items = await menu.getByRole("menuitem").allTextContents();
    expect(items.slice(0, 2)).toEqual(["In 1 hour", "In 4 hours"]);
    expect(items).toContainEqual(expect.stringMatching(/^(Tomorrow|This morning), 9:00\sAM$/));
    await page.screenshot({ path: path.join(shots, "feed-snooze-menu-phone.png") });
    const tomorrow = menu.getByRole("menuitem", { name: /^(Tomorrow|This morning), / });
    const said = (await tomorrow.textContent())?.split(",")[0]?.toLowerCase();
    const before = Date.now();
    await tomorrow.tap();
    await page
      .getByRole("status")
      .filter({ hasText: new RegExp(`^Snoozed until ${said}, 9:00\\sAM: .`) })
      .waitFor();
    const decision = await lastDecision(id);
    expect(decision?.verdict).toBe("snooze");
    // 9:00 on Paris's clock, the next morning there.
    const until = decision?.snoozeUntil ?? "";
    expect(readIn(until, "Europe/Paris").slice(11)).toBe("09:00");
    const hoursOff = (Date.parse(until) - before) / 3_600_000;
    expect(hoursOff).toBeGreaterThan(0);
    expect(hoursOff).toBeLessThanOrEqual(33);
    expect((await e2e.api<{ card: Card }>(`/api/cards/${id}`)).card.status).toBe("snoozed");
    // A tap on Later itself is the four hours it always was.
    const next = page.locator("article[data-card-id]").first();
    await next.locator("h2").waitFor();
    const nextId = (await next.getAttribute("data-card-id")) as string;
    await next.getByRole("button", { name: "Later", exact: true }).tap();
    await page
      .getByRole("status")
      .filter({ hasText: /^Snoozed for 4 hours: / })
      .waitFor();
    const four = (Date.parse((await lastDecision(nextId))?.snoozeUntil ?? "") - Date.now()) / 3_600_000;
    expect(four).toBeGreaterThan(3.9);
    expect(four).toBeLessThanOrEqual(4);
    await context.close();
  });

  it("on a desktop: shift+S opens the menu, its keys are its own, Escape closes it, Enter chooses", async () => {
    const context = await e2e.context(desktop);
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const items = page.getByRole("navigation", { name: "Cards" }).getByRole("button");
    await items.first().waitFor();
    const count = await items.count();
    const selected = page.locator("article[data-card-id]").first();
    const id = (await selected.getAttribute("data-card-id")) as string;
    await page.keyboard.press("Shift+S");
    const menu = page.getByRole("menu", { name: "Snooze until" });
    await menu.waitFor();
    // Focus is on its first choice; "a" there accepts nothing.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("In 1 hour");
    await page.keyboard.press("a");
    await page.keyboard.press("Escape");
    await expect.poll(() => menu.count()).toBe(0);
    // Tabbing out of it closes it too.
    await page.keyboard.press("Shift+S");
    await menu.waitFor();
    for (let i = 0; i < 6; i++) await page.keyboard.press("Tab");
    await expect.poll(() => menu.count()).toBe(0);
    expect(await items.count()).toBe(count);
    expect(await lastDecision(id)).toBeUndefined();
    // Again: down to "In 4 hours", Enter.
    await page.keyboard.press("Shift+S");
    await menu.waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page
      .getByRole("status")
      .filter({ hasText: /^Snoozed for 4 hours: / })
      .waitFor();
    await expect.poll(() => items.count()).toBe(count - 1);
    const decision = await lastDecision(id);
    expect(decision?.verdict).toBe("snooze");
    // Looking back at snoozed cards, it says when it comes back, on this browser's clock.
    await page.getByRole("combobox", { name: "Filter by status" }).selectOption("snoozed");
    await page.getByRole("navigation", { name: "Cards" }).getByRole("button").first().waitFor();
    const note = page.locator(`[data-card-id="${id}"]`).getByRole("note");
    // Its hour and minute on the browser's clock (its local day and time, however the locale writes them).
    const [h, m] = await page.evaluate((iso) => {
      const d = new Date(iso);
      return [d.getHours(), d.getMinutes()];
    }, decision?.snoozeUntil ?? "");
    const clock = `${(((h as number) + 11) % 12) + 1}:${String(m).padStart(2, "0")}\\s?${(h as number) < 12 ? "AM" : "PM"}`;
    await expect
      .poll(() => note.first().textContent())
      .toMatch(new RegExp(`^Snoozed until \\w{3}, \\w{3} \\d{1,2}, ${clock} — see its history above\\.$`));
    await context.close();
  });
});
