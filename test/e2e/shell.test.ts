import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb, launchChromium } from "../helpers/browser.ts";
import { PASSWORD } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

describe("the web shell in Chromium", () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;
  let inviteUrl = "";
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const webDist = buildWeb();
    dataDir = mkdtempSync(path.join(tmpdir(), "flick-e2e-"));
    server = await startServerProcess({ DATA_DIR: dataDir, WEB_DIST: webDist });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates the admin from the console's setup link on a phone, then lands on the feed", async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    expect(server.setupUrl).toBeTruthy();
    await page.goto(server.setupUrl ?? "");
    await page.getByRole("heading", { name: "Create the admin account" }).waitFor();
    // The token leaves the address bar as soon as the page has read it.
    expect(page.url()).toBe(`${server.url}/setup`);
    await page.getByLabel("Your name").fill("Ada Admin");
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel(/Password/).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).tap();
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.getByTestId("current-user").textContent()).toContain("Ada Admin · admin");

    await page.getByRole("button", { name: "Invite a teammate" }).tap();
    inviteUrl = await page.getByTestId("invite-url").inputValue();
    expect(inviteUrl).toMatch(new RegExp(`^${server.url}/invite#[\\w-]{20,}$`));

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "flick_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Lax");
    expect(await page.evaluate(() => document.cookie)).toBe("");
    await context.close();
  });

  it("lets the invited teammate join with the link, as a reviewer", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(inviteUrl);
    await page.getByText("You are invited as a reviewer.").waitFor();
    await page.getByLabel("Your name").fill("Rita Reviewer");
    await page.getByLabel("Email").fill("rita@example.com");
    await page.getByLabel(/Password/).fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();
    expect(await page.getByTestId("current-user").textContent()).toContain("Rita Reviewer · reviewer");
    expect(await page.getByRole("button", { name: "Invite a teammate" }).count()).toBe(0);

    // The same link does not work twice.
    const other = await browser.newContext();
    const second = await other.newPage();
    await second.goto(inviteUrl);
    await second.getByRole("alert").waitFor();
    expect(await second.getByRole("alert").textContent()).toMatch(/unknown, used or expired/);
    await other.close();
    await context.close();
  });

  it("signs out, refuses a wrong password with a clear message, and signs back in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(page.url()).toBe(`${server.url}/login`);
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Password").fill("not my password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toBe("Email or password is wrong");

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Nothing to review" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await context.close();
  });

  it("ran without console errors (CSP violations would show here)", () => {
    // A 401 from the sign-in attempt is expected; anything else is a bug.
    expect(consoleErrors.filter((e) => !/401/.test(e))).toEqual([]);
  });
});
