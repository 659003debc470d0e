import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { emptyPostgresDatabase } from "../helpers/harness.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

// The built-in agents fail on no signal the ingest accepts, so this test sets signals aside itself,
// as the runtime leaves one it failed on at every try (its state, attempts and error), in the
// server's own database: PostgreSQL, which a second client can write while the server runs.
describe.skipIf(!process.env.TEST_DATABASE_URL)("signals that failed, in Settings", () => {
  let e2e: E2E;
  let db: Awaited<ReturnType<typeof emptyPostgresDatabase>>;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await emptyPostgresDatabase("flick_e2e_failed");
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    e2e = await startE2E({ env: { DATABASE_URL: db.url } });
  });
  afterAll(async () => {
    await e2e?.close();
    await sql?.end();
    await db?.drop();
  });

  it("lists what failed with its error, discards one and retries another on a phone", async () => {
    const { source } = await e2e.api<{ source: { id: string; secret: string; ingestUrl: string } }>(
      "/api/sources",
      {
        method: "POST",
        body: JSON.stringify({ kind: "webhook", name: "Billing hooks", settings: { idPath: "$.id" } }),
      },
    );
    const sent = await fetch(source.ingestUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
      body: JSON.stringify([
        { id: "inv-7", title: "Invoice 7 failed to charge" },
        { id: "inv-8", title: "Invoice 8 failed to charge" },
      ]),
    });
    expect(sent.status).toBe(202);
    await expect
      .poll(async () => (await sql`select count(*)::int as n from signal where state = 'done'`)[0]?.n, {
        timeout: 20_000,
      })
      .toBe(2);
    await sql`update signal set state = 'parked', attempts = 5, processed_at = null,
      last_error = 'TypeError: Cannot read properties of undefined (reading ''amount'')'
      where source_id = ${source.id}`;

    const context = await e2e.context(phone);
    const page = await context.newPage();
    page.on("dialog", (d) => void d.accept());
    await page.goto(`${e2e.server.url}/settings`);
    const section = page.getByRole("region", { name: "Signals that failed" });
    await section
      .getByText(/Processed signals are kept 30 days \(SIGNAL_RETENTION_DAYS\), these until you act\.$/)
      .waitFor();
    const inv7 = section.getByRole("article", { name: "Failed signal inv-7" });
    await inv7.waitFor();
    expect(await inv7.getByRole("heading").textContent()).toBe("Billing hooks · webhook");
    expect(await inv7.locator("pre").textContent()).toBe(
      "TypeError: Cannot read properties of undefined (reading 'amount')",
    );
    await inv7.getByText(/· tried 5 times$/).waitFor();
    await section.getByRole("button", { name: "Retry all 2" }).waitFor();
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await section.screenshot({ path: path.join(shots, "settings-failed-signals-phone.png") });

    await inv7.getByRole("button", { name: "Discard" }).click();
    await page.getByRole("status").filter({ hasText: "inv-7 discarded." }).waitFor();
    await section
      .getByRole("article", { name: "Failed signal inv-8" })
      .getByRole("button", { name: "Retry" })
      .click();
    await page.getByRole("status").filter({ hasText: "inv-8 sent back to the agents." }).waitFor();
    await section.getByText("None: every signal so far went through the agents.").waitFor();
    // Gone for good, and handled again by the running agents.
    await expect
      .poll(async () =>
        (await sql`select external_id, state from signal where source_id = ${source.id}`).map(
          (r) => `${r.external_id} ${r.state}`,
        ),
      )
      .toEqual(["inv-8 done"]);
    await context.close();
  });
});
