import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb, launchChromium } from "../helpers/browser.ts";
import { PASSWORD } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

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
  let server: ServerProcess;
  let browser: Browser;
  let dir: string;
  let cookie: string;

  beforeAll(async () => {
    const webDist = buildWeb();
    dir = mkdtempSync(path.join(tmpdir(), "flick-e2e-a11y-"));
    server = await startServerProcess({ DATA_DIR: dir, WEB_DIST: webDist });
    const setup = await fetch(`${server.url}/api/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({
        token: server.setupUrl?.split("#")[1],
        email: "ada@example.com",
        name: "Ada",
        password: PASSWORD,
      }),
    });
    cookie = (setup.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (viewport: { width: number; height: number }, signedIn: boolean, url = "/") => {
    const context = await browser.newContext({ viewport, bypassCSP: true, colorScheme: "dark" });
    if (signedIn) {
      const [name, value] = cookie.split("=");
      await context.addCookies([{ name: name ?? "", value: value ?? "", url: server.url }]);
    }
    const page = await context.newPage();
    await page.goto(`${server.url}${url}`);
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
    await desk.context().close();
  });
});
