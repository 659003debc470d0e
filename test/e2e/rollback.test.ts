import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Card } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktop, type E2E, githubFixture, githubSource, phone, startE2E } from "../helpers/e2e.ts";
import { fixturesDir } from "../helpers/fixtures.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");
const minute = 60_000;

/**
 * The correlator's whole loop with real parts: GitHub's push webhook and a Sentry SDK's event into
 * a real server, its rollback card accepted from a desktop's keyboard, the team's rollback action (a
 * local HTTP server here) called, and what came of it told on the card while it is looked at.
 */
describe("a rollback, end to end, in Chromium", () => {
  let e2e: E2E;
  let hook: Server;
  /** The rollback action's calls, as its server received them. */
  const calls: Record<string, unknown>[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        // (A second action, at /refuse, says no.)
        if (req.url?.startsWith("/refuse")) {
          res.writeHead(422, { "content-type": "application/json" }).end('{"error":"no such service"}');
          return;
        }
        calls.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    e2e = await startE2E({ env: { UNDO_WINDOW_SECONDS: "1" } });
  });
  afterAll(async () => {
    await e2e?.close();
    await new Promise((resolve) => hook?.close(resolve));
  });

  it("a deploy and a new error make one card; accepted, the rollback runs; the error coming again is told on it, live", async () => {
    const { port } = hook.address() as AddressInfo;
    await e2e.api("/api/actions", {
      method: "POST",
      body: JSON.stringify({
        name: "rollback",
        url: `http://127.0.0.1:${port}/rollback`,
        bodyTemplate: '{"card": "{{card.fingerprint}}"}',
      }),
    });
    // A push to the default branch three minutes ago…
    const send = await githubSource(e2e);
    const push = githubFixture("push/with-new-branch.payload.json");
    const repo = push.repository as Record<string, unknown>;
    await send("push", {
      ...push,
      ref: `refs/heads/${repo.default_branch}`,
      repository: { ...repo, pushed_at: Math.floor((Date.now() - 3 * minute) / 1000) },
      before: "c".repeat(40),
      after: "d".repeat(40),
      created: false,
      deleted: false,
    });
    // …then a new error, as a Python SDK sends it to the source's DSN.
    const { source } = await e2e.api<{ source: { sentryDsn: string } }>("/api/sources", {
      method: "POST",
      body: JSON.stringify({ kind: "sentry", name: "Sentry" }),
    });
    const dsn = new URL(source.sentryDsn);
    const event = JSON.parse(
      readFileSync(path.join(fixturesDir, "sentry/events/python-modern.json"), "utf8"),
    );
    const crash = async (at: Date, id: string) => {
      const res = await fetch(`${e2e.server.url}/api/${dsn.pathname.slice(1)}/store/`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.username}`,
        },
        body: JSON.stringify({ ...event, event_id: id.repeat(32), timestamp: at.toISOString() }),
      });
      expect(res.status, await res.text()).toBe(202);
    };
    await crash(new Date(), "a");
    let card: Card | undefined;
    await expect
      .poll(
        async () => {
          card = (await e2e.api<{ cards: Card[] }>("/api/feed?limit=50")).cards.find((c) =>
            c.fingerprint.startsWith("deploy:"),
          );
          return card?.title ?? "";
        },
        { timeout: 20_000 },
      )
      .toBe('New Exception ×1 3 min after push ddddddd "Initial commit" — roll back?');
    const id = card?.id ?? "";

    // Accepted from the keyboard, on the card a link opened.
    const desk = await e2e.context(desktop);
    const p = await desk.newPage();
    await p.goto(`${e2e.server.url}/?card=${id}`);
    const shown = p.locator(`[data-card-id="${id}"]`);
    await shown
      .getByRole("region", { name: "What accept will do" })
      .getByText(/rollback/)
      .waitFor();
    const summary = shown.locator("[data-summary]");
    expect(await summary.textContent()).toContain("Accept runs the rollback action back to ccccccc.");
    await p.keyboard.press("a");
    await expect.poll(() => calls.length, { timeout: 20_000 }).toBe(1);
    expect(calls[0]).toEqual({ card: `deploy:${repo.full_name}@${"d".repeat(40)}` });
    await expect
      .poll(async () => (await e2e.api<{ card: Card }>(`/api/cards/${id}`)).card.status, { timeout: 20_000 })
      .toBe("applied");

    // The feed is empty now; it offers to look back at what was carried out: nothing has come of
    // it yet.
    await p
      .getByRole("navigation", { name: "Look back at cards already decided" })
      .getByRole("button", { name: "Applied" })
      .click();
    expect(await p.getByRole("combobox", { name: "Filter by status" }).inputValue()).toBe("applied");
    // What was carried out: the action, on what, back to which version.
    await shown
      .getByRole("region", { name: "Carried out" })
      .getByText(`Run the "rollback" action for ${repo.full_name}, back to ccccccc`, { exact: true })
      .waitFor();
    expect(await shown.getByRole("region", { name: "What came of it" }).count()).toBe(0);
    // It says what the action answered, and so does its history.
    await shown
      .getByRole("region", { name: "Carried out" })
      .getByText('Done: the "rollback" action answered 200', { exact: true })
      .waitFor();
    await shown.locator("summary", { hasText: "History" }).click();
    await shown.getByText(/ UTC · Action: done — the "rollback" action answered 200$/).waitFor();
    // Its summary no longer says what accepting would do (its change section says what was done).
    expect(await summary.textContent()).toContain("Push ddddddd");
    expect(await summary.textContent()).not.toContain("Accept");

    // The error comes again a quarter hour after the rollback (its timestamp says so: the test does
    // not wait a quarter hour). The card being looked at says the rollback did not stop it. (Run
    // near midnight, that quarter hour is tomorrow, and the time says its day.)
    const carried = (await e2e.api<{ card: Card }>(`/api/cards/${id}`)).card;
    await crash(new Date(Date.parse(carried.updatedAt) + 15 * minute), "b");
    const came = shown.getByRole("region", { name: "What came of it" }).getByRole("listitem");
    await came.first().waitFor({ timeout: 20_000 });
    expect(await came.allTextContents()).toEqual([
      expect.stringMatching(
        /^✗ after the rollback, Exception: This is an example Python exception stopped · it came again 15 min after it, at ([A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d UTC$/,
      ),
    ]);
    // The agent wrote that on the card: what was done stays said.
    expect(
      await shown
        .getByRole("region", { name: "Carried out" })
        .getByText(/^Done: /)
        .textContent(),
    ).toBe('Done: the "rollback" action answered 200');
    // Apart from the checks made before asking, under their own heading.
    await shown.getByRole("heading", { name: "Checked before asking you" }).waitFor();
    expect(await shown.getByRole("list", { name: "Checked before asking you" }).textContent()).not.toContain(
      "after the rollback",
    );
    await p.screenshot({ path: path.join(shots, "rollback-outcome-desktop.png") });
    await desk.close();

    // On a phone (no filters beside the card): the same way in, what came of it, and the way back.
    const phoneContext = await e2e.context(phone);
    const m = await phoneContext.newPage();
    await m.goto(e2e.server.url);
    // The error the rollback did not stop has its own card again, first in the feed…
    await m
      .locator("[data-card-id]")
      .first()
      .getByRole("heading", {
        name: "Not stopped by the rollback: Exception: This is an example Python exception — still coming after ddddddd was rolled back",
      })
      .waitFor();
    // …and past the feed's last card, what was decided is a tap away.
    const end = m.getByRole("region", { name: "End of the feed" });
    await end.scrollIntoViewIfNeeded();
    await end.getByRole("button", { name: "Applied" }).tap();
    const looking = m.getByRole("status").filter({ hasText: "Applied · 1 card" });
    await looking.waitFor();
    await m
      .locator(`[data-card-id="${id}"]`)
      .getByRole("region", { name: "What came of it" })
      .getByText(/^✗ after the rollback, Exception: This is an example Python exception stopped/)
      .waitFor();
    await m.screenshot({ path: path.join(shots, "rollback-outcome-phone.png") });
    await looking.getByRole("button", { name: "Back to review" }).tap();
    await end.waitFor();
    expect(await m.locator(`[data-card-id="${id}"]`).count()).toBe(0);
    await phoneContext.close();
  });

  it("an action that says no: its card says why it failed, naming the action and its host, not its address", async () => {
    const { port } = hook.address() as AddressInfo;
    // Its address holds its secret, as a chat hook's does.
    await e2e.api("/api/actions", {
      method: "POST",
      body: JSON.stringify({ name: "page", url: `http://127.0.0.1:${port}/refuse/T0/s3cr3t` }),
    });
    const { source } = await e2e.api<{ source: { id: string; secret: string } }>("/api/sources", {
      method: "POST",
      body: JSON.stringify({ kind: "metrics", name: "Orders", settings: { actions: { orders_ok: "page" } } }),
    });
    // Broken three hours ago: not after the push above, so its own card (not the rollback's).
    const start = Date.now() - 2 * 86_400_000 - 3 * 60 * minute;
    const res = await fetch(`${e2e.server.url}/ingest/${source.id}`, {
      method: "POST",
      headers: { authorization: `Bearer ${source.secret}`, "content-type": "application/json" },
      body: JSON.stringify(
        Array.from({ length: 577 }, (_, i) => ({
          name: "orders_ok",
          ts: new Date(start + i * 300_000).toISOString(),
          value: i < 576 ? 98 + Math.sin(i / 7) : 40,
        })),
      ),
    });
    expect(res.status, await res.text()).toBe(202);
    let card: Card | undefined;
    await expect
      .poll(
        async () => {
          const { cards } = await e2e.api<{ cards: Card[] }>("/api/feed?limit=50");
          card = cards.find((c) => c.fingerprint.startsWith("metric:orders_ok"));
          return card?.title ?? "";
        },
        { timeout: 20_000 },
      )
      .toMatch(/^orders_ok dropped \d+%/);
    const id = card?.id ?? "";
    const desk = await e2e.context(desktop);
    const p = await desk.newPage();
    await p.goto(`${e2e.server.url}/?card=${id}`);
    const shown = p.locator(`[data-card-id="${id}"]`);
    await shown.getByRole("region", { name: "What accept will do" }).waitFor();
    await p.keyboard.press("a");
    await expect
      .poll(async () => (await e2e.api<{ card: Card }>(`/api/cards/${id}`)).card.status, { timeout: 20_000 })
      .toBe("failed");
    await p.getByRole("combobox", { name: "Filter by status" }).selectOption("failed");
    const failed = shown.getByRole("region", { name: "Tried, and failed" }).getByText(/^Failed: /);
    await failed.waitFor();
    expect(await failed.textContent()).toBe(
      `Failed: the "page" action at 127.0.0.1:${port} answered 422: {"error":"no such service"}`,
    );
    expect(await shown.textContent()).not.toContain("s3cr3t");
    await p.screenshot({ path: path.join(shots, "action-failed-desktop.png") });
    await desk.close();
  });
});
