import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Card, Decision, Execution } from "@flick/shared";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../bench/nab/corpus.ts";
import {
  desktop,
  type E2E,
  githubFixture,
  githubSource,
  greenDependabotPr,
  phone,
  startE2E,
} from "../helpers/e2e.ts";
import { fixturesDir } from "../helpers/fixtures.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

/** A real finger drag through Chrome's touch input (pointer events of type touch). */
async function swipe(page: Page, selector: string, dx: number) {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const cdp = await page.context().newCDPSession(page);
  const y = box.y + box.height / 3;
  const x0 = box.x + box.width / 2;
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: x0, y }] });
  for (let i = 1; i <= 12; i++) {
    await cdp.send("Input.dispatchTouchEvent", {
      type: "touchMove",
      touchPoints: [{ x: x0 + (dx * i) / 12, y: y + i }],
    });
    await page.waitForTimeout(16);
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

/** The card's Accept button is wholly on the phone's screen. */
async function acceptInReach(card: Locator): Promise<boolean> {
  const b = await card.getByRole("button", { name: "Accept" }).boundingBox();
  return b !== null && b.y >= 0 && b.y + b.height <= phone.viewport.height;
}

describe("the feed in Chromium", () => {
  let e2e: E2E;
  let phoneContext: BrowserContext;
  let page: Page;
  const api = <T>(p: string, init?: RequestInit) => e2e.api<T>(p, init);
  /** A source made through the API, as an admin does in Settings. */
  const newSource = async (kind: string, name: string, settings?: Record<string, unknown>) =>
    (
      await api<{ source: { id: string; secret: string } }>("/api/sources", {
        method: "POST",
        body: JSON.stringify({ kind, name, ...(settings ? { settings } : {}) }),
      })
    ).source;
  /** The figure a card's chart is drawn in: its scale, times and caption around it. */
  const figureOf = (chart: Locator) => chart.locator("xpath=ancestor::figure[1]");
  /** A chart's scale as written beside it: its highest value, then its lowest. */
  const scaleOf = (chart: Locator) => figureOf(chart).locator("[aria-hidden=true] span").allTextContents();
  /** A sender posting to a source's ingest URL with its bearer secret; it must be taken (202). */
  const post = async (source: { id: string; secret: string }, body: unknown) => {
    const res = await fetch(`${e2e.server.url}/ingest/${source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(202);
  };
  /** Waits until the feed (`query`: status, limit) has a card `match` picks; its id. */
  const cardWhen = async (query: string, match: (c: Card) => boolean, timeout = 5_000) => {
    let id = "";
    await expect
      .poll(
        async () => {
          id = (await api<{ cards: Card[] }>(`/api/feed?${query}`)).cards.find(match)?.id ?? "";
          return id;
        },
        { timeout },
      )
      .not.toBe("");
    return id;
  };
  /** On the desktop, the snoozed cards listed, the one titled so opened: its "Set aside" note. */
  const setAsideNote = async (title: RegExp, id: string) => {
    const desk = await e2e.context(desktop);
    const page = await desk.newPage();
    await page.goto(e2e.server.url);
    await page.getByRole("combobox", { name: "Filter by status" }).selectOption("snoozed");
    await page.getByRole("navigation", { name: "Cards" }).getByText(title).click();
    const note = page
      .locator(`[data-card-id="${id}"]`)
      .getByRole("note")
      .filter({ hasText: "Set aside for now" });
    await note.waitFor();
    return { desk, page, note };
  };

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    e2e = await startE2E({ env: { UNDO_WINDOW_SECONDS: "30" } });
    phoneContext = await e2e.context(phone);
    page = await phoneContext.newPage();
  });
  afterAll(async () => e2e?.close());

  it("teaches on an empty feed and loads demo cards, ranked, preview first", async () => {
    await page.goto(e2e.server.url);
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
    await page.screenshot({ path: path.join(shots, "feed-empty-phone.png") });
    await page.getByRole("button", { name: "Load demo data" }).tap();
    await page.locator("[data-card-id]").first().waitFor();
    // (the first may arrive live before the reload brings the rest: all four are shown either way)
    await expect.poll(() => page.locator("article h2").count()).toBe(4);
    const titles = await page.locator("article h2").allTextContents();
    expect(titles[0]).toMatch(/^Checkout errors ×40 since deploy a1b2c3/);
    // A sample card says that accepting it only rehearses (it names a repository and an action
    // this install does not have).
    const rehearsal = page
      .locator("article")
      .first()
      .getByText(/^Demo card: accepting only rehearses this/);
    expect(await rehearsal.count()).toBe(1);
    // Facts read as words ("users affected"), not as the code names them ("usersAffected").
    const names = await page.locator("article").first().locator("dt").allTextContents();
    expect(names).toEqual(expect.arrayContaining(["errors", "users affected", "deploy"]));
    expect(names.filter((n) => /[A-Z]/.test(n))).toEqual([]);
    // Why it ranks where it does: each stored factor named in words and shown as it is stored.
    const first = page.locator("article").first();
    await first.getByText(/^Ranked \d+ \/ 100 — why$/).tap();
    const meters = await first
      .locator("meter")
      .evaluateAll((ms) => ms.map((m) => [m.getAttribute("aria-label"), (m as HTMLMeterElement).value]));
    const { cards: shown } = await e2e.api<{ cards: Card[] }>("/api/feed?limit=1");
    const words: Record<string, string> = {
      severity: "severity",
      blastRadius: "blast radius",
      confidence: "confidence",
      recency: "recency",
      acceptRate: "team's accept rate",
    };
    expect(meters).toEqual(Object.entries(shown[0]?.priorityFactors ?? {}).map(([k, v]) => [words[k], v]));
    expect(meters.map(([name]) => name)).toContain("team's accept rate");
    const chart = page.locator("article").first().getByRole("slider", { name: "checkout_success chart" });
    expect(await chart.count()).toBe(1);
    // Its scale in the series' unit: checkout success in percent, from about 99 down to about 59.
    const scale = await scaleOf(chart);
    expect(scale).toHaveLength(2);
    expect(scale.every((s) => s.endsWith("%"))).toBe(true);
    expect(Number.parseFloat(scale[0] ?? "")).toBeGreaterThan(98);
    expect(Number.parseFloat(scale[1] ?? "")).toBeLessThan(62);
    // The stretch since the deploy is shaded: it starts at the drop and runs to the chart's end.
    const band = await chart.locator("rect").boundingBox();
    const whole = await chart.boundingBox();
    if (!band || !whole) throw new Error("chart not drawn");
    expect(band.x - whole.x).toBeGreaterThan(whole.width * 0.55);
    expect(Math.abs(band.x + band.width - (whole.x + whole.width - (4 * whole.width) / 320))).toBeLessThan(
      1.5,
    );
    // Its start drawn as a line the chart's whole height: the deploy, seen however narrow the stretch.
    const edge = await chart.locator("line").first().boundingBox();
    expect(Math.abs((edge?.x ?? 0) + (edge?.width ?? 0) / 2 - band.x)).toBeLessThan(1.5);
    expect(edge?.height).toBeGreaterThan(whole.height - 1);
    // A summary written as lines reads as lines, the troubles since the deploy a bulleted list.
    const summary = page.locator("article").first().locator("[data-summary]");
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point: its line breaks as a person sees them
    expect(await summary.evaluate((el) => (el as HTMLElement).innerText)).toMatch(
      /^Deploy a1b2c3 reached checkout.*Since then:\n+TypeError.*×40.*\ncheckout success fell/s,
    );
    expect(await summary.getByRole("listitem").allTextContents()).toEqual([
      expect.stringMatching(/^TypeError.*×40/),
      expect.stringMatching(/^checkout success fell/),
    ]);
    expect(
      await summary
        .getByRole("listitem")
        .first()
        .evaluate((li) => getComputedStyle(li).listStyleType),
    ).toBe("disc");
    // The buttons are on screen with the card, without scrolling.
    expect(await acceptInReach(page.locator("article").first())).toBe(true);
    await page.screenshot({ path: path.join(shots, "feed-card-phone.png") });

    // The issue a card would open: its text on demand, as it would be written, quotes on their
    // own lines (on a page of its own, so this one's feed stays where the swipes expect it).
    const other = await phoneContext.newPage();
    await other.goto(e2e.server.url);
    const issueCard = other.locator("article", { hasText: "watch stops syncing" });
    await issueCard.getByText("Show the text").scrollIntoViewIfNeeded();
    await issueCard.getByText("Show the text").tap();
    const text = issueCard.getByText(/^12 reports this week/);
    await text.waitFor();
    // The fold's label now says what tapping it again does.
    await issueCard.getByText("Hide the text").waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point: its line breaks as a person sees them
    expect(await text.evaluate((el) => (el as HTMLElement).innerText)).toMatch(
      /since 4\.12\.\n\n> Since the last update my watch won't sync anymore\.\n\n> Watch stopped/,
    );
    // Read halfway down a card longer than the screen, its buttons are still in reach.
    expect(await acceptInReach(issueCard)).toBe(true);
    await other.screenshot({ path: path.join(shots, "feed-issue-text-phone.png") });
    await other.close();
  });

  it("swipes right to accept and left to reject; both decisions are stored", async () => {
    const first = await page.locator("[data-card-id]").first().getAttribute("data-card-id");
    await swipe(page, `[data-card-id="${first}"]`, 300);
    await page.getByRole("status").filter({ hasText: "Accepted" }).waitFor();
    await page.screenshot({ path: path.join(shots, "feed-undo-toast-phone.png") });
    await expect.poll(() => page.locator(`[data-card-id="${first}"]`).count()).toBe(0);
    const accepted = await api<{ decisions: Decision[]; executions: Execution[] }>(
      `/api/cards/${first}/history`,
    );
    expect(accepted.decisions.map((d) => [d.verdict, d.client])).toEqual([["accept", "web"]]);
    expect(accepted.executions[0]?.state).toBe("scheduled");

    const second = await page.locator("[data-card-id]").first().getAttribute("data-card-id");
    await swipe(page, `[data-card-id="${second}"]`, -300);
    await page.getByRole("status").filter({ hasText: "Rejected" }).waitFor();
    const rejected = await api<{ decisions: Decision[] }>(`/api/cards/${second}/history`);
    expect(rejected.decisions.map((d) => d.verdict)).toEqual(["reject"]);

    // A short drag springs back and decides nothing.
    const third = await page.locator("[data-card-id]").first().getAttribute("data-card-id");
    await swipe(page, `[data-card-id="${third}"]`, 40);
    await page.waitForTimeout(300);
    expect((await api<{ decisions: Decision[] }>(`/api/cards/${third}/history`)).decisions).toEqual([]);
  });

  it("undoes from the toast: the card comes back and the server cancels the change", async () => {
    const card = await page.locator("[data-card-id]").first().getAttribute("data-card-id");
    await page.locator(`[data-card-id="${card}"]`).getByRole("button", { name: "Accept" }).tap();
    const toast = page.getByRole("status").filter({ hasText: "Accepted" });
    await toast.getByRole("button", { name: "Undo" }).tap();
    await page.getByRole("status").filter({ hasText: "Undone" }).waitFor();
    await page.locator(`[data-card-id="${card}"]`).waitFor();
    const history = await api<{ decisions: Decision[]; executions: Execution[] }>(
      `/api/cards/${card}/history`,
    );
    expect(history.decisions.map((d) => d.verdict)).toEqual(["accept", "undo"]);
    expect(history.executions[0]?.state).toBe("cancelled");
  });

  it("rolls back with a clear message when someone else decided first (409)", async () => {
    // This phone's live stream is cut, so it still shows a card another reviewer decides meanwhile.
    const stale = await phoneContext.newPage();
    await stale.route("**/api/stream", (route) => route.abort());
    await stale.goto(e2e.server.url);
    await stale.locator("[data-card-id]").first().waitFor();
    const id = (await stale.locator("[data-card-id]").first().getAttribute("data-card-id")) ?? "";
    const { card } = await api<{ card: Card }>(`/api/cards/${id}`);
    await api(`/api/cards/${id}/decisions`, {
      method: "POST",
      body: JSON.stringify({
        verdict: "snooze",
        cardVersion: card.version,
        idempotencyKey: "other-device-1",
        snoozeUntil: new Date(Date.now() + 3600_000).toISOString(),
      }),
    });
    await stale.locator(`[data-card-id="${id}"]`).getByRole("button", { name: "Reject" }).tap();
    const error = stale.getByRole("status").filter({ hasText: "already snoozed" });
    await error.waitFor();
    expect(await error.textContent()).toMatch(
      /^Ada already snoozed this card \([A-Z][a-z]{2} \d{1,2}, \d\d:\d\d UTC\)\.$/,
    );
    // The card it could not decide leaves the feed rather than lingering.
    await expect.poll(() => stale.locator(`[data-card-id="${id}"]`).count()).toBe(0);
    await stale.screenshot({ path: path.join(shots, "feed-conflict-phone.png") });
    const verdicts = (await api<{ decisions: Decision[] }>(`/api/cards/${id}/history`)).decisions.map(
      (d) => d.verdict,
    );
    expect(verdicts.at(-1)).toBe("snooze");
    expect(verdicts).not.toContain("reject");
    await stale.close();
  });

  it("drives the desktop layout with the keyboard", async () => {
    await api("/api/admin/demo", { method: "POST" });
    const desk = await e2e.context(desktop);
    const p = await desk.newPage();
    await p.goto(e2e.server.url);
    await p.getByRole("navigation", { name: "Cards" }).waitFor();
    const items = p.getByRole("navigation", { name: "Cards" }).getByRole("button");
    const count = await items.count();
    expect(count).toBeGreaterThan(1);
    await p.keyboard.press("j");
    expect(await items.nth(1).getAttribute("aria-current")).toBe("true");
    const target = (await items.nth(1).locator("span").first().textContent()) ?? "";
    await p.keyboard.press("a");
    await p
      .getByRole("status")
      .filter({ hasText: `Accepted: ${target}` })
      .waitFor();
    await expect.poll(() => items.count()).toBe(count - 1);
    await p.keyboard.press("z");
    await p.getByRole("status").filter({ hasText: "Undone" }).waitFor();
    await expect.poll(() => items.count()).toBe(count);
    await p.keyboard.press("?");
    await p.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
    await p.screenshot({ path: path.join(shots, "feed-desktop-keys.png") });
    await p.keyboard.press("Escape");

    // "/" searches; the list narrows to what matches and Escape clears it.
    await p.keyboard.press("/");
    await p.keyboard.type(target.slice(0, 12));
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.first().locator("span").first().textContent()).toBe(target);
    await p.keyboard.press("Escape");
    await expect.poll(() => items.count()).toBe(count);
    const agentsShown = await p
      .getByRole("combobox", { name: "Filter by agent" })
      .locator("option")
      .allTextContents();
    expect(agentsShown[0]).toBe("All agents");
    expect(agentsShown.length).toBeGreaterThan(1);
    await p.getByRole("combobox", { name: "Filter by agent" }).selectOption(agentsShown[1] ?? "");
    const filtered = await items.count();
    expect(filtered).toBeGreaterThan(0);
    expect(filtered).toBeLessThanOrEqual(count);
    // "errors · 80", or "errors + metrics · 80" for a card both wrote (a deploy's rollback card).
    for (const meta of await items.locator("span:nth-child(2)").allTextContents())
      expect(meta.split(" · ")[0]?.split(" + ")).toContain(agentsShown[1]);
    await p.getByRole("combobox", { name: "Filter by agent" }).selectOption("");

    // Looking back: the cards rejected earlier in this file, from the server, read-only.
    const rejected = (await api<{ cards: { title: string }[] }>("/api/feed?status=rejected")).cards;
    expect(rejected.length).toBeGreaterThan(0);
    await p.getByRole("combobox", { name: "Filter by status" }).selectOption("rejected");
    await expect.poll(() => items.count()).toBe(rejected.length);
    expect(await items.first().locator("span").first().textContent()).toBe(rejected[0]?.title);
    const shown = p.locator("[data-card-id]").first();
    await shown.getByRole("note").filter({ hasText: "Rejected — see its history above." }).waitFor();
    expect(await shown.getByRole("button", { name: "Accept" }).count()).toBe(0);
    await p.getByRole("combobox", { name: "Filter by status" }).selectOption("pending");
    await expect.poll(() => items.count()).toBe(count);
    const sourcesShown = await p
      .getByRole("combobox", { name: "Filter by source" })
      .locator("option")
      .allTextContents();
    expect(sourcesShown[0]).toBe("All sources");
    await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

    // The card's history: the accept and its undo, by Ada, from this browser.
    await p.keyboard.press("j");
    const active = p.locator("[data-card-id]").nth(1);
    await active.locator("summary", { hasText: "History" }).click();
    // (earlier tests may have decided this card too: at least this accept and its undo are listed)
    await active
      .getByText(/ UTC · Ada accepted it$/)
      .first()
      .waitFor();
    await active
      .getByText(/ UTC · Ada undid the accept$/)
      .first()
      .waitFor();
    // In the order it happened, each moment in UTC as the card says times.
    const moments = await active
      .locator("ul li time")
      .evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute("datetime") ?? "")));
    expect(moments.length).toBeGreaterThan(1);
    expect(moments).toEqual([...moments].sort((a, b) => a - b));
    await p.screenshot({ path: path.join(shots, "feed-desktop-history.png") });
    await desk.close();
  });

  it("keeps a list looked back at live: a card someone rejects elsewhere joins it, and leaves when undone", async () => {
    const desk = await e2e.context(desktop);
    const p = await desk.newPage();
    await p.goto(e2e.server.url);
    const items = p.getByRole("navigation", { name: "Cards" }).getByRole("button");
    await items.first().waitFor();
    await p.getByRole("combobox", { name: "Filter by status" }).selectOption("rejected");
    const before = (await api<{ cards: Card[] }>("/api/feed?status=rejected")).cards.length;
    await expect.poll(() => items.count()).toBe(before);
    // Another reviewer rejects a waiting card.
    const [card] = (await api<{ cards: Card[] }>("/api/feed?limit=1")).cards;
    if (!card) throw new Error("no waiting card");
    const { decision } = await api<{ decision: { id: string } }>(`/api/cards/${card.id}/decisions`, {
      method: "POST",
      body: JSON.stringify({ verdict: "reject", cardVersion: card.version, idempotencyKey: "elsewhere-1" }),
    });
    await expect.poll(() => items.count()).toBe(before + 1);
    expect(await items.first().locator("span").first().textContent()).toBe(card.title);
    await p
      .locator(`[data-card-id="${card.id}"]`)
      .getByRole("note")
      .filter({ hasText: "Rejected — see its history above." })
      .waitFor();
    // …and undoes it: the card is waiting again, no longer among the rejected.
    await api(`/api/decisions/${decision.id}/undo`, { method: "POST", body: "{}" });
    await expect.poll(() => items.count()).toBe(before);
    expect(await p.locator(`[data-card-id="${card.id}"]`).count()).toBe(0);
    await desk.close();
  });

  it("says before the swipe that accept would fail when the card's action is not set up", async () => {
    // A metrics source whose admin mapped checkout_success to a "rollback" action nobody created.
    const source = await newSource("metrics", "Shop metrics", { actions: { checkout_success: "rollback" } });
    const start = Date.now() - 2 * 86_400_000;
    await post(
      source,
      Array.from({ length: 577 }, (_, i) => ({
        name: "checkout_success",
        ts: new Date(start + i * 300_000).toISOString(),
        value: i < 576 ? 98 + Math.sin(i / 7) : 40,
      })),
    );
    const id = await cardWhen("limit=50", (c) => c.fingerprint.startsWith("metric:checkout_success"), 20_000);
    const p = await phoneContext.newPage();
    await p.goto(`${e2e.server.url}/?card=${id}`);
    const card = p.locator(`[data-card-id="${id}"]`);
    const warning = card.getByRole("note").filter({ hasText: /^Would fail now: no action named "rollback"/ });
    await warning.waitFor();
    await p.screenshot({ path: path.join(shots, "feed-would-fail-phone.png") });

    // Once an admin adds the action, the same card has nothing to warn about.
    await api("/api/actions", {
      method: "POST",
      body: JSON.stringify({ name: "rollback", url: "https://deploy.example.com/rollback" }),
    });
    const checked = p.waitForResponse((r) => r.url().endsWith(`/api/cards/${id}/dry-run`));
    await p.goto(`${e2e.server.url}/?card=${id}`);
    expect(await (await checked).json()).toMatchObject({ ok: true });
    await card.getByText("Accept will").waitFor();
    expect(await card.getByRole("note").filter({ hasText: "Would fail now" }).count()).toBe(0);
    await p.close();
  });

  it("draws an incident's other series behind the one its card leads with, another metric below", async () => {
    // Queue wait in three zones, two days steady, then all three jump within three minutes, and
    // the errors in zones a and b with them: one request, as a collector sends them.
    const source = await newSource("metrics", "Queue metrics");
    const start = Date.now() - 2 * 86_400_000;
    const series = (name: string, zone: string, k: number, usual: number, broken: number) =>
      Array.from({ length: 577 }, (_, i) => ({
        name,
        labels: { zone },
        ts: new Date(start + i * 300_000 + (i === 576 ? k * 60_000 : 0)).toISOString(),
        value: i < 576 ? usual + 3 * Math.sin(i / 7) : broken,
      }));
    const points = [
      ...["a", "b", "c"].flatMap((zone, k) => series("queue_wait_ms", zone, k, 40 + k, 400 + 40 * k)),
      ...series("queue_errors", "a", 3, 10, 90),
      ...series("queue_errors", "b", 4, 12, 70),
    ];
    await post(source, points);
    const id = await cardWhen("limit=100", (c) => c.fingerprint.startsWith("metric:queue_wait_ms"), 20_000);
    const p = await phoneContext.newPage();
    await p.goto(`${e2e.server.url}/?card=${id}`);
    const card = p.locator(`[data-card-id="${id}"]`);
    await card
      .getByText(/and on 2 more series/)
      .first()
      .waitFor();
    const chart = card.getByRole("slider", { name: "queue_wait_ms chart, with 2 more series" });
    await chart.waitFor();
    expect(await chart.locator("polyline").count()).toBe(3);
    await card.getByText(/queue_wait_ms · now 400 · 3 series/).waitFor();
    // Its scale (zone c's 480 on top, the steady ~37 below) and the times its ends were, in UTC as
    // the title says them (the chart keeps the last hours: times without the date).
    const figure = figureOf(chart);
    const scale = await scaleOf(chart);
    expect(scale[0]).toBe("480");
    expect(Number(scale[1])).toBeGreaterThan(36);
    expect(Number(scale[1])).toBeLessThan(38);
    const { card: stored } = await api<{ card: Card }>(`/api/cards/${id}`);
    const drawn = stored.preview?.type === "series" ? stored.preview : null;
    const xs = [drawn?.points ?? [], ...(drawn?.others ?? []).map((o) => o.points)].flat().map(([x]) => x);
    const [first, last] = [Math.min(...xs), Math.max(...xs)].map((x) => new Date(x).toISOString());
    const times = figure.locator("time");
    expect(await times.evaluateAll((ts) => ts.map((t) => t.getAttribute("datetime")))).toEqual([first, last]);
    expect(await times.allTextContents()).toEqual([first?.slice(11, 16), `${last?.slice(11, 16)} UTC`]);
    // A tap on the chart reads the point under the finger: the latest at the right edge, its time
    // and value in the caption instead of "now …", a line down the chart through it.
    const caption = figure.locator("figcaption");
    const own = drawn?.points ?? [];
    const box = await chart.boundingBox();
    if (!box) throw new Error("chart not drawn");
    const lines = await chart.locator("line").count();
    await chart.tap({ position: { x: box.width - 1, y: box.height / 2 } });
    const newest = own[own.length - 1] ?? [0, 0];
    await expect
      .poll(() => caption.textContent())
      .toBe(
        `queue_wait_ms · ${new Date(newest[0]).toISOString().slice(11, 16)} UTC: ${newest[1]} · 3 series`,
      );
    expect(await chart.locator("line").count()).toBe(lines + 2);
    // Tapped again, the latest value is back and the line gone.
    await chart.tap({ position: { x: box.width - 1, y: box.height / 2 } });
    await expect.poll(() => caption.textContent()).toBe("queue_wait_ms · now 400 · 3 series");
    expect(await chart.locator("line").count()).toBe(lines);
    // On a desktop, the mouse over its left edge reads the oldest; leaving the chart gives the
    // latest value back.
    const desk = await e2e.context(desktop);
    const d = await desk.newPage();
    await d.goto(`${e2e.server.url}/?card=${id}`);
    const deskChart = d
      .locator(`[data-card-id="${id}"]`)
      .getByRole("slider", { name: "queue_wait_ms chart, with 2 more series" });
    const deskCaption = figureOf(deskChart).locator("figcaption");
    const deskBox = await deskChart.boundingBox();
    if (!deskBox) throw new Error("chart not drawn");
    await d.mouse.move(deskBox.x + 1, deskBox.y + deskBox.height / 2);
    const oldest = own[0] ?? [0, 0];
    const read = `${new Date(oldest[0]).toISOString().slice(11, 16)} UTC: ${Number(oldest[1].toPrecision(4))}`;
    await expect.poll(() => deskCaption.textContent()).toBe(`queue_wait_ms · ${read} · 3 series`);
    await d.screenshot({ path: path.join(shots, "feed-chart-reading-desktop.png") });
    await d.mouse.move(deskBox.x + deskBox.width / 2, deskBox.y + deskBox.height + 200);
    await expect.poll(() => deskCaption.textContent()).toBe("queue_wait_ms · now 400 · 3 series");
    await desk.close();
    // The errors have other units: a small chart of their own led by zone a's (the first to break,
    // as the title's "rose" is), the break marked, zone b's errors drawn behind.
    // (zone a's errors: 90 where about 10 was expected)
    await card
      .getByText(/, and queue_errors rose (9\.\d+|10(\.\d+)?)×$/)
      .first()
      .waitFor();
    const errors = card.getByRole("slider", {
      name: "queue_errors (zone=a) chart, with 1 more series",
    });
    expect(await errors.locator("polyline").count()).toBe(2);
    // The dot at 90, and a ring where about 10 was expected, well below it, joined by a dashed line.
    const ys = await errors
      .locator("line")
      .evaluateAll((lines) => lines.map((l) => Number(l.getAttribute("y1"))));
    expect(ys).toHaveLength(4);
    const [, ring = 0, , dot = 0] = ys;
    expect(ring - dot).toBeGreaterThan(20);
    await card.getByText(/queue_errors \(zone=a\) · now 90 · 2 series$/).waitFor();
    // Nobody has decided a metric card yet: its "why" says so instead of an accept rate of 50.
    await card.getByText(/^Ranked \d+ \/ 100 — why$/).tap();
    await card.getByText("no decisions yet (counts as 50)").waitFor();
    expect(await card.getByRole("meter", { name: "team's accept rate" }).count()).toBe(0);
    expect(await card.getByRole("meter", { name: "severity" }).count()).toBe(1);
    await p.screenshot({ path: path.join(shots, "feed-incident-phone.png") });
    await p.close();
  });

  it("says a card's moments in UTC, as its title, summary and chart do", async () => {
    // A Python SDK's event (the Sentry fixture), as the SDK sends it to the source's DSN.
    const { source } = await api<{ source: { sentryDsn: string } }>("/api/sources", {
      method: "POST",
      body: JSON.stringify({ kind: "sentry", name: "Sentry" }),
    });
    const dsn = new URL(source.sentryDsn);
    const event = JSON.parse(
      readFileSync(path.join(fixturesDir, "sentry/events/python-modern.json"), "utf8"),
    );
    const sentAt = new Date();
    const res = await fetch(`${e2e.server.url}/api/${dsn.pathname.slice(1)}/store/`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.username}`,
      },
      body: JSON.stringify({ ...event, event_id: "e2e0".repeat(8), timestamp: sentAt.toISOString() }),
    });
    expect(res.status, await res.text()).toBe(202);
    const id = await cardWhen("limit=100", (c) => c.title.startsWith("New error: "), 20_000);
    // Read in New York: the card's moments stay in the clock its words use.
    const away = await e2e.context({ ...phone, timezoneId: "America/New_York" });
    const p = await away.newPage();
    await p.goto(`${e2e.server.url}/?card=${id}`);
    const card = p.locator(`[data-card-id="${id}"]`);
    // The summary says when the event happened, "first seen Nov 26, 21:51 UTC"; the fact beside
    // it says the same moment in the same words.
    const month = sentAt.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    const first = `${month} ${sentAt.getUTCDate()}, ${sentAt.toISOString().slice(11, 16)} UTC`;
    await card.getByText(`first seen ${first}`).first().waitFor();
    const fact = card.locator("dt", { hasText: /^first seen$/ }).locator("xpath=following-sibling::dd[1]");
    expect(await fact.textContent()).toBe(first);
    await away.close();
  });

  it("says a card set aside for its fix is not a snooze anyone chose", async () => {
    // GitHub's fixtures through the real ingest and agents: Dependabot's alert for semver, then
    // Dependabot's pull request bumping it past the fix (the pull request and check run fixtures
    // moved to the alert's repository), green.
    const send = await githubSource(e2e);
    const alert = githubFixture("dependabot_alert/created.payload.json");
    await send("dependabot_alert", alert);
    await greenDependabotPr(send, alert.repository, {
      number: 5,
      title: "Bump semver from 7.3.8 to 7.5.2",
      sha: "5".repeat(40),
    });
    const id = await cardWhen(
      "status=snoozed&limit=50",
      (c) => c.fingerprint === "github:dependabot:wolfy1339/pika-pack:semver",
    );
    // On the desktop, looking back at snoozed cards: this one says who set it aside, and why.
    const { desk, page: p, note } = await setAsideNote(/^semver < 7\.5\.2/, id);
    // It names the card that proposes the fix, and goes there.
    const merge = note.getByRole("link", { name: /Merge #5: Bump semver from 7\.3\.8 to 7\.5\.2/ });
    await merge.waitFor();
    expect(await note.textContent()).toMatch(
      /^Set aside for now: “Merge #5: [^”]+” proposes the fix\. It comes back if that one is rejected or its pull request closes unmerged\.$/,
    );
    await p.screenshot({ path: path.join(shots, "feed-set-aside-desktop.png") });
    expect(
      await p
        .locator(`[data-card-id="${id}"]`)
        .getByText(/^Snoozed/)
        .count(),
    ).toBe(0);
    await merge.click();
    const chosen = p.getByRole("navigation", { name: "Cards" }).locator('[aria-current="true"]');
    await expect.poll(async () => chosen.textContent()).toMatch(/^Merge #5: Bump semver/);
    await desk.close();
  });

  it("says an alert set aside behind its metric's card that the two tell of one trouble", async () => {
    // A NAB series with a labelled drop as signup_success{service="shop"}, then an Alertmanager
    // alert whose rule reads it (the fixture's notification moved onto it, with the generatorURL
    // Prometheus links back with): one card, the alert's set aside behind it.
    const [metrics, alerts] = [
      await newSource("metrics", "metrics"),
      await newSource("alertmanager", "alertmanager"),
    ];
    const series = loadCorpus(
      path.join(fixturesDir, "nab/data"),
      path.join(fixturesDir, "nab/labels/combined_windows.json"),
    ).find((s) => s.name === "artificialWithAnomaly/art_daily_jumpsdown.csv");
    await post(
      metrics,
      (series?.values ?? []).map((value, i) => ({
        name: "signup_success",
        labels: { service: "shop" },
        ts: new Date(series?.timestamps[i] as number).toISOString(),
        value,
      })),
    );
    const notification = JSON.parse(
      readFileSync(path.join(fixturesDir, "alertmanager/prometheus-msteams__prom_post_request.json"), "utf8"),
    ) as { alerts: object[] };
    const metricId = await cardWhen(
      "limit=100",
      (c) => c.fingerprint === 'metric:signup_success{service="shop"}',
    );
    await post(alerts, {
      ...notification,
      groupKey: '{}:{alertname="SignupSuccessLow"}',
      alerts: [
        {
          ...notification.alerts[0],
          labels: { alertname: "SignupSuccessLow", service: "shop", severity: "page" },
          annotations: { summary: "Signup success rate is low" },
          startsAt: new Date().toISOString(),
          generatorURL: `http://prometheus:9090/graph?g0.expr=${encodeURIComponent('signup_success{service="shop"} < 0.9')}`,
        },
      ],
    });
    const id = await cardWhen("status=snoozed&limit=50", (c) =>
      c.title.startsWith("Firing: SignupSuccessLow"),
    );
    const { desk, page: p, note } = await setAsideNote(/^Firing: SignupSuccessLow/, id);
    await note
      .getByRole("link", { name: /^“signup_success dropped \d+% at 2014-\d\d-\d\d \d\d:\d\d UTC”$/ })
      .waitFor();
    expect(await note.textContent()).toMatch(
      /^Set aside for now: “signup_success dropped \d+% at 2014-\d\d-\d\d \d\d:\d\d UTC” tells of the same trouble\. It comes back if that one is rejected\.$/,
    );
    await p.screenshot({ path: path.join(shots, "feed-alert-set-aside-desktop.png") });
    // The metric's card draws 2014's hours: its chart says the day at its end, as the title does,
    // and calls its last value the latest, not "now".
    await p.goto(`${e2e.server.url}/?card=${metricId}`);
    const chart = p
      .locator(`[data-card-id="${metricId}"]`)
      .getByRole("slider", { name: "signup_success chart" });
    await chart.waitFor();
    const times = await figureOf(chart).locator("time").allTextContents();
    expect(times[1]).toMatch(/^2014-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await figureOf(chart).locator("figcaption").textContent()).toMatch(/ · latest [\d.]+$/);
    await desk.close();
  });

  it("wraps a title of label sets with no spaces on a phone instead of cutting it at the edge", async () => {
    // Alertmanager's fixture through the real ingest and agents: "namespace=whatever/promstack" is
    // one word wider than half the phone.
    await post(
      await newSource("alertmanager", "Alertmanager"),
      readFileSync(
        path.join(fixturesDir, "alertmanager/prometheus-msteams__card-grafana-inspired-payload.json"),
        "utf8",
      ),
    );
    const id = await cardWhen("limit=50", (c) => c.title.startsWith("Firing: JustATestAlert_1 ×3"));
    const p = await phoneContext.newPage();
    await p.goto(`${e2e.server.url}/?card=${id}`);
    const title = p.locator(`[data-card-id="${id}"] h2`);
    await title.waitFor();
    const fits = await title.evaluate((el) => el.scrollWidth <= el.clientWidth);
    expect(fits).toBe(true);
    // Where the alert lives (its generatorURL, Prometheus's graph), one tap away in a new tab.
    const where = p.locator(`[data-card-id="${id}"]`).getByRole("link", { name: "Source ↗" });
    expect(await where.getAttribute("href")).toMatch(
      /^https:\/\/domain\.com\/promstack\/prometheus\/graph\?/,
    );
    expect(await where.getAttribute("target")).toBe("_blank");
    expect(await where.getAttribute("rel")).toBe("noopener noreferrer");
    await p.screenshot({ path: path.join(shots, "feed-alert-group-phone.png") });
    await p.close();
  });
});

describe("the desktop card from the keyboard, in Chromium", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E({ demo: true });
  });
  afterAll(async () => e2e?.close());
  const figureOf = (chart: Locator) => chart.locator("xpath=ancestor::figure[1]");

  it("opens a card's diff and the instruction box from the keyboard, and reads a chart's points", async () => {
    const { cards } = await e2e.api<{ cards: Card[] }>("/api/feed?limit=100");
    const patch = cards.find((c) => c.status === "pending" && c.change?.type === "patch");
    const charted = cards.find((c) => c.status === "pending" && c.preview?.type === "series");
    if (!patch || !charted) throw new Error("the demo has no pending patch or chart card");
    const desk = await e2e.context(desktop);
    const p = await desk.newPage();
    await p.goto(`${e2e.server.url}/?card=${patch.id}`);
    const card = p.locator(`[data-card-id="${patch.id}"]`);
    const diff = card.locator("details", { hasText: "the diff" });
    await diff.waitFor();
    expect(await diff.getAttribute("open")).toBeNull();
    // d unfolds the diff, its added line in view; d again folds it.
    await p.keyboard.press("d");
    const added = (patch.change as Extract<Card["change"], { type: "patch" }>).diff
      .split("\n")
      .find((l) => l.startsWith("+") && !l.startsWith("+++"));
    await card
      .getByText(added?.slice(1).trim() ?? "?")
      .first()
      .waitFor();
    expect(await diff.locator("summary").textContent()).toBe("Hide the diff");
    await p.screenshot({ path: path.join(shots, "feed-desktop-diff-key.png") });
    await p.keyboard.press("d");
    await expect.poll(() => diff.getAttribute("open")).toBeNull();
    // i opens the instruction box with the cursor in it: letters are typed, not taken as keys
    // (a would accept, r reject); escape folds it and the keys work again.
    await p.keyboard.press("i");
    const box = card.getByRole("textbox", { name: "Instruction for the agent" });
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await p.keyboard.type("rather a revert");
    expect(await box.inputValue()).toBe("rather a revert");
    expect((await e2e.api<{ card: Card }>(`/api/cards/${patch.id}`)).card.status).toBe("pending");
    await p.keyboard.press("Escape");
    await expect.poll(() => box.isVisible()).toBe(false);
    // Opened again, what was typed is still there; ctrl+enter sends it as a typed follow-up.
    await p.keyboard.press("i");
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await p.keyboard.press("Control+Enter");
    await p.getByRole("status").filter({ hasText: "the agent is revising the card" }).waitFor();
    const { followUps } = await e2e.api<{ followUps: { transcript: string; transcriptSource: string }[] }>(
      `/api/cards/${patch.id}/follow-ups`,
    );
    expect(followUps.at(-1)).toMatchObject({ transcript: "rather a revert", transcriptSource: "typed" });
    // Sent, the box folds away and the keys are the feed's again.
    await expect.poll(() => box.isVisible()).toBe(false);
    await p.keyboard.press("?");
    await p.getByRole("dialog", { name: "Keyboard shortcuts" }).getByText("show or hide the diff").waitFor();
    await p.keyboard.press("Escape");
    await expect.poll(() => p.getByRole("dialog").count()).toBe(0);
    // A mouse finds them too: a button below the list opens them, a close button folds them.
    await p.getByRole("button", { name: "Keyboard shortcuts" }).click();
    const keys = p.getByRole("dialog", { name: "Keyboard shortcuts" });
    await keys.getByText("undo the last decision").waitFor();
    await p.screenshot({ path: path.join(shots, "feed-desktop-keys-button.png") });
    await keys.getByRole("button", { name: "Close" }).click();
    await expect.poll(() => p.getByRole("dialog").count()).toBe(0);

    // A chart takes focus like a slider: ← reads the point before the latest, home the first,
    // escape the latest again, and none of those keys decides the card (← alone would reject it).
    await p.goto(`${e2e.server.url}/?card=${charted.id}`);
    const preview = charted.preview as Extract<Card["preview"], { type: "series" }>;
    const chart = p
      .locator(`[data-card-id="${charted.id}"]`)
      .getByRole("slider", { name: `${preview.label} chart` });
    const caption = figureOf(chart).locator("figcaption");
    await chart.focus();
    const at = (i: number) => {
      const [x, y] = preview.points.at(i) ?? [0, 0];
      const value = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 }).format(y);
      return `${preview.label} · ${new Date(x).toISOString().slice(11, 16)} UTC: ${value}${preview.unit ?? ""}`;
    };
    const now = (await caption.textContent()) ?? "";
    expect(now).toMatch(new RegExp(`^${preview.label} · now `));
    await p.keyboard.press("ArrowLeft");
    await expect.poll(() => caption.textContent()).toBe(at(-2));
    expect(await chart.getAttribute("aria-valuetext")).toBe(at(-2).slice(preview.label.length + 3));
    await p.keyboard.press("Home");
    await expect.poll(() => caption.textContent()).toBe(at(0));
    await p.keyboard.press("ArrowRight");
    await expect.poll(() => caption.textContent()).toBe(at(1));
    // m: the marked point (where it broke), however far along.
    const mark = preview.marks?.[0] ?? -1;
    expect(mark).toBeGreaterThan(1);
    await p.keyboard.press("m");
    await expect.poll(() => caption.textContent()).toBe(at(mark));
    await p.screenshot({ path: path.join(shots, "feed-chart-keyboard-desktop.png") });
    await p.keyboard.press("Escape");
    await expect.poll(() => caption.textContent()).toBe(now);
    expect((await e2e.api<{ card: Card }>(`/api/cards/${charted.id}`)).card.status).toBe("pending");
    // On a card with no diff and no link, d and o say so instead of doing nothing.
    await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await p.keyboard.press("d");
    await p.getByRole("status").filter({ hasText: "This card has no diff to show." }).waitFor();
    await p.keyboard.press("o");
    await p.getByRole("status").filter({ hasText: "This card has no link to open." }).waitFor();
    // A demo merge card's pull request is a sample's: d says so, not that the card has no change.
    const merge = cards.find(
      (c) => c.status === "pending" && c.change?.type === "github" && c.change.operation === "merge_pr",
    );
    if (!merge) throw new Error("the demo has no pending merge card");
    await p.goto(`${e2e.server.url}/?card=${merge?.id}`);
    await p.locator(`[data-card-id="${merge?.id}"] h2`).waitFor();
    await p.keyboard.press("d");
    await p
      .getByRole("status")
      .filter({ hasText: "A demo card's pull request is a sample: it has no diff to read." })
      .waitFor();

    // o opens where the card came from (its first link: the pull request) in a new tab.
    const linked = cards.find((c) => c.status === "pending" && (c.evidence.links ?? []).length > 0);
    const url = linked?.evidence.links?.[0]?.url ?? "";
    expect(url).toMatch(/^https:\/\//);
    await desk.route(url, (route) =>
      route.fulfill({ contentType: "text/html", body: "<title>elsewhere</title>" }),
    );
    await p.goto(`${e2e.server.url}/?card=${linked?.id}`);
    await p.locator(`[data-card-id="${linked?.id}"]`).getByRole("link").first().waitFor();
    const [tab] = await Promise.all([desk.waitForEvent("page"), p.keyboard.press("o")]);
    await tab.waitForURL(url);
    await desk.close();
  });

  it("shows the next card from its top on a desktop, however far down the last one was read", async () => {
    const { cards } = await e2e.api<{ cards: Card[] }>("/api/feed?limit=100");
    const patch = cards.find((c) => c.status === "pending" && c.change?.type === "patch");
    if (!patch) throw new Error("the demo has no pending patch card");
    const desk = await e2e.context({ viewport: { width: 1280, height: 560 } });
    const p = await desk.newPage();
    await p.goto(`${e2e.server.url}/?card=${patch.id}`);
    await p.locator(`[data-card-id="${patch.id}"]`).getByText("Show the diff").click();
    await p.locator(`[data-card-id="${patch.id}"] tr[data-kind=change]`).first().waitFor();
    // Read down to its foot (the diff and the buttons below it)...
    const feed = p.getByTestId("feed");
    await feed.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    expect(await feed.evaluate((el) => el.scrollTop)).toBeGreaterThan(100);
    // ...then the next card: it starts at its top, its preview and title in sight.
    await p.keyboard.press("j");
    const next = p.locator("[data-card-id]").filter({ visible: true }).first();
    await expect.poll(() => next.getAttribute("data-card-id")).not.toBe(patch.id);
    await expect.poll(() => feed.evaluate((el) => el.scrollTop)).toBe(0);
    await p.keyboard.press("k");
    await expect.poll(() => feed.evaluate((el) => el.scrollTop)).toBe(0);
    await desk.close();
  });

  it("wraps a diff's long lines on a phone; unwrapped, a long line scrolls sideways without swiping the card away", async () => {
    const { cards } = await e2e.api<{ cards: Card[] }>("/api/feed?limit=100");
    const patch = cards.find((c) => c.status === "pending" && c.change?.type === "patch");
    if (!patch) throw new Error("the demo has no pending patch card");
    const ctx = await e2e.context(phone);
    const p = await ctx.newPage();
    await p.goto(`${e2e.server.url}/?card=${patch.id}`);
    const card = `[data-card-id="${patch.id}"]`;
    await p.locator(card).getByText("Show the diff").click();
    const table = `${card} table[aria-label="Unified diff"]`;
    await p.locator(`${table} tr[data-kind=add]`).first().waitFor();
    const scroller = p.locator(table).locator("xpath=..");
    const wrapButton = p.locator(card).getByRole("button", { name: "Wrap lines" });
    // Wrapped by default on a phone: the whole of every line is on screen, none scrolls sideways;
    // the longest line takes more than one row, its + hanging in the margin, and keeps its number.
    expect(await wrapButton.getAttribute("aria-pressed")).toBe("true");
    expect(await scroller.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    const rows = await p
      .locator(`${table} tr[data-kind=add], ${table} tr[data-kind=context]`)
      .evaluateAll((trs) =>
        trs.map((tr) => ({
          height: tr.getBoundingClientRect().height,
          chars: tr.lastElementChild?.textContent?.length ?? 0,
          no: tr.children[1]?.textContent ?? "",
          right: tr.getBoundingClientRect().right,
        })),
      );
    const longest = rows.reduce((a, b) => (b.chars > a.chars ? b : a));
    const shortest = rows.reduce((a, b) => (b.chars < a.chars ? b : a));
    expect(longest.height).toBeGreaterThan(1.5 * shortest.height);
    expect(longest.no).toMatch(/^\d+$/);
    expect(longest.right).toBeLessThanOrEqual((p.viewportSize()?.width ?? 0) + 0.5);
    await p.screenshot({ path: path.join(shots, "feed-diff-wrapped-phone.png") });
    // Unwrapped, the choice is kept on this phone (a reload, another card), and a long line overflows.
    await wrapButton.click();
    expect(await wrapButton.getAttribute("aria-pressed")).toBe("false");
    await p.reload();
    await p.locator(card).getByText("Show the diff").click();
    await p.locator(`${table} tr[data-kind=add]`).first().waitFor();
    expect(await wrapButton.getAttribute("aria-pressed")).toBe("false");
    expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    // A finger drags leftwards across the code, as far as a reject swipe would go.
    await swipe(p, table, -250);
    await p.waitForTimeout(500);
    expect(await scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
    expect(await p.locator(card).count()).toBe(1);
    expect((await e2e.api<{ card: Card }>(`/api/cards/${patch.id}`)).card.status).toBe("pending");
    // The same drag on the card's words still swipes it.
    await swipe(p, `${card} h2`, -250);
    await expect
      .poll(async () => (await e2e.api<{ card: Card }>(`/api/cards/${patch.id}`)).card.status)
      .toBe("rejected");
    await ctx.close();
  });
});
