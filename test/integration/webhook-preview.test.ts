import * as schema from "@flick/server/schema";
import type { ErrorBody, Source, WebhookPreview } from "@flick/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countRows } from "../helpers/db.ts";
import { drivers, ingestInto, startTestApp, type TestApp } from "../helpers/harness.ts";

const alert = {
  alert: { id: "a-17", name: "Disk almost full on db-1", host: "db-1" },
  text: "92% used on /var",
  links: { runbook: "https://runbooks.example/disk" },
};

describe.each(drivers)("webhook mapping preview on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let hook: Source;

  beforeEach(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
    hook = await t.createSource(admin, "webhook", {});
  });
  afterEach(async () => t?.close());

  const preview = (body: Record<string, unknown>, cookie = admin, id = hook.id) =>
    t.request<WebhookPreview & ErrorBody>(`/api/sources/${id}/webhook-preview`, { cookie, json: body });
  const send = (items: unknown) => ingestInto(t, hook, items);
  const mapping = {
    titlePath: "$.alert.name",
    idPath: "$.alert.id",
    fingerprintPath: "$.alert.host",
    summaryPath: "$.text",
    urlPath: "$.links.runbook",
    priority: 0.7,
  };

  it("shows what the latest delivery becomes under an unsaved mapping, the same card the real path makes", async () => {
    const none = await preview({ settings: mapping });
    expect(none.status, none.text).toBe(200);
    expect(none.body).toEqual({ from: "none", missing: [] });

    await send(alert);
    const res = await preview({ settings: mapping });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      from: "latest",
      delivery: alert,
      card: {
        title: "Disk almost full on db-1",
        groupedBy: "db-1",
        id: "a-17",
        summary: "92% used on /var",
        url: "https://runbooks.example/disk",
        priority: 0.7,
      },
      missing: [],
    });
    expect(Date.parse(res.body.receivedAt ?? "")).toBe(t.clock.now().getTime());
    // Trying a mapping saves nothing.
    const stored = await t.request<{ source: Source }>(`/api/sources/${hook.id}`, { cookie: admin });
    expect(stored.body.source.settings).toEqual({});

    // Saved and sent again: the card is the one the preview showed.
    const saved = await t.request(`/api/sources/${hook.id}`, {
      cookie: admin,
      method: "PATCH",
      json: { settings: mapping },
    });
    expect(saved.status, saved.text).toBe(200);
    await send({ ...alert, alert: { ...alert.alert, id: "a-18" } });
    await t.drain();
    const cards = await t.database.db.select().from(schema.cards);
    const card = cards.find((c) => c.fingerprint === `webhook:${hook.id}:db-1`);
    expect(card?.title).toBe("Disk almost full on db-1");
    expect(card?.summary).toBe("92% used on /var");
    expect(card?.priority).toBe(0.7);
  });

  it("names the mapped paths that find nothing, and tries a pasted sample instead of the latest delivery", async () => {
    await send(alert);
    const res = await preview({
      settings: { titlePath: "$.alert.title", fingerprintPath: "$.alert.host", urlPath: "$.text" },
      sample: [{ ...alert, alert: { ...alert.alert, host: "db-2" } }, alert],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.from).toBe("sample");
    expect(res.body.card).toEqual({ title: "Webhook: db-2", groupedBy: "db-2", priority: 0.3 });
    // The link path finds text, but not a web page: no link either.
    expect(res.body.missing).toEqual([
      { key: "titlePath", path: "$.alert.title" },
      { key: "urlPath", path: "$.text" },
    ]);
  });

  it("refuses a path it cannot read, a sample that is not a delivery, other kinds of source and reviewers", async () => {
    const bad = await preview({ settings: { titlePath: "$.alert..name" } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("settings.titlePath");
    const notObject = await preview({ settings: {}, sample: "disk full" });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toContain("a delivery is a JSON object");
    const metrics = await t.createSource(admin, "metrics");
    const other = await preview({ settings: {} }, admin, metrics.id);
    expect(other.status).toBe(400);
    expect(other.body.error.message).toContain("this is a metrics source");
    expect((await preview({ settings: {} }, admin, "src_missing")).status).toBe(404);
    const reviewer = await t.addUser(admin, "reviewer", "r@example.com");
    expect((await preview({ settings: {} }, reviewer)).status).toBe(403);
    expect(await countRows(t.database.db, "signal")).toBe(0);
  });
});
