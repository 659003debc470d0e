import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktop, type E2E, startE2E } from "../helpers/e2e.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

describe("connecting a source from the settings page", () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(async () => e2e?.close());

  it("shows the URL and secret to paste, and a signal sent there becomes a live card in the feed", async () => {
    const context = await e2e.context(desktop);
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await page.getByLabel("Kind").selectOption("webhook");
    await page.getByLabel("Name").fill("Deploy bot");
    await page.getByRole("button", { name: "Add source" }).click();
    const source = page.getByRole("article", { name: "Source Deploy bot" });
    await source.waitFor();
    const url = await source.getByLabel("Ingest URL").inputValue();
    const secret = await source.getByLabel("Secret").inputValue();
    expect(url).toMatch(new RegExp(`^${e2e.server.url}/ingest/src_`));
    expect(secret).toMatch(/^[0-9a-f]{48}$/);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, "settings-desktop.png") });

    await page.getByRole("link", { name: "Feed" }).click();
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
    // A machine somewhere posts to the pasted URL with the pasted secret.
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: JSON.stringify({ event: "deploy failed on prod" }),
    });
    expect(res.status).toBe(202);
    // The feed was empty, so the card appears at once (no "new" pill to tap).
    await page.locator("[data-card-id]").first().waitFor();
    expect(await page.locator("article h2").first().textContent()).toMatch(/^Webhook: /);

    // "Send test signal" in Settings: a test card reaches the feed through the agents.
    await page.getByRole("link", { name: "Settings" }).click();
    await source.getByRole("button", { name: "Send test signal" }).click();
    await page.getByRole("status").filter({ hasText: "Test signal sent for Deploy bot" }).waitFor();
    await page.getByRole("link", { name: "Feed" }).click();
    // On a wide screen the list names every card (the detail shows the selected one).
    await page
      .getByRole("navigation", { name: "Cards" })
      .getByText(/^Test signal from “Deploy bot” arrived/)
      .waitFor();
    await context.close();
  });
});
