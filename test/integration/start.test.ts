import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshDatabase, PASSWORD } from "../helpers/harness.ts";
import { repoRoot, runServerExpectingFailure, startServerProcess } from "../helpers/server-process.ts";

async function post(url: string, body: unknown, origin: string) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify(body),
  });
}

describe("starting the real server", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "flick-data-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("prints a setup link on the embedded database, and keeps data across a restart", async () => {
    const first = await startServerProcess({ DATA_DIR: dataDir });
    try {
      expect(first.setupUrl, first.output()).toMatch(/\/setup#[\w-]{20,}$/);
      const ready = await fetch(`${first.url}/readyz`);
      expect(await ready.json()).toEqual({ ok: true, database: "pglite" });
      const token = first.setupUrl?.split("#")[1];
      const setup = await post(
        `${first.url}/api/auth/setup`,
        { token, email: "admin@example.com", name: "Admin", password: PASSWORD },
        first.url,
      );
      expect(setup.status, await setup.clone().text()).toBe(201);
      // The one-time link is for the console only; it must not be in the structured log.
      expect(first.output()).not.toMatch(/"msg".*setup#/);
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await startServerProcess({ DATA_DIR: dataDir });
    try {
      expect(second.setupUrl, "no setup link once an admin exists").toBeNull();
      const login = await post(
        `${second.url}/api/auth/login`,
        { email: "admin@example.com", password: PASSWORD },
        second.url,
      );
      expect(login.status, await login.clone().text()).toBe(200);
    } finally {
      await second.stop();
    }
    // Two real starts on the embedded database (each migrates or opens it): 10–20 s alone, more
    // beside the other test files on a loaded CI machine.
  }, 90_000);

  it("refuses to start on bad configuration, naming every bad variable", async () => {
    const { code, output } = await runServerExpectingFailure({ PORT: "http", DATABASE_URL: "mysql://db/x" });
    expect(code).toBe(1);
    expect(output).toContain("PORT");
    expect(output).toContain("DATABASE_URL");
    expect(output).not.toMatch(/at .*\.ts:\d+/);
  });

  it("says clearly when the data folder cannot be written", async () => {
    const { code, output } = await runServerExpectingFailure({ DATA_DIR: "/proc/flick-cannot-write-here" });
    expect(code).toBe(1);
    expect(output).toMatch(/flick: cannot create DATA_DIR \/proc\/flick-cannot-write-here/);
    const underFile = await runServerExpectingFailure({ DATA_DIR: "/etc/hostname/flick" });
    expect(underFile.code).toBe(1);
    expect(underFile.output).toMatch(/flick: cannot create DATA_DIR .*ENOTDIR/);
  });

  it("says the disk is full instead of crash-looping, and starts once space is freed", async (ctx) => {
    // A small file system of its own, so the test fills only that (needs root to mount a tmpfs,
    // as CI and the dev machine have; elsewhere the test says why it is skipped).
    const mountPoint = mkdtempSync(path.join(tmpdir(), "flick-small-disk-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", mountPoint], { stdio: "pipe" });
    } catch (err) {
      rmSync(mountPoint, { recursive: true, force: true });
      ctx.skip(`cannot mount a tmpfs here: ${(err as Error).message.split("\n")[0]}`);
    }
    try {
      const filler = path.join(mountPoint, "filler");
      execFileSync("fallocate", ["-l", "62m", filler]);
      const env = { DATA_DIR: path.join(mountPoint, "flick") };
      const full = await runServerExpectingFailure(env);
      expect(full.code).toBe(1);
      expect(full.output).toMatch(
        /cannot open the embedded database in .*: .*the disk holding it has only \d+ MB free/,
      );
      expect(full.output).not.toMatch(/at .*\.ts:\d+/);
      // The same start again fails the same clear way: nothing half-made is left to trip over.
      const again = await runServerExpectingFailure(env);
      expect(again.output).toMatch(/only \d+ MB free/);
      rmSync(filler);
      const server = await startServerProcess(env);
      try {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        expect(server.setupUrl).toMatch(/#/);
      } finally {
        await server.stop();
      }
    } finally {
      execFileSync("umount", [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
    // Three server starts, each opening the embedded database: ~14 s alone, over 30 s once when CI
    // ran it beside the other test files.
  }, 90_000);

  it("builds the bundle `pnpm start` runs, and that bundle serves", async () => {
    // The bundle resolves the workspace's shared package, its subpaths too ("@flick/shared/moments"),
    // as the sources do through the package's exports; the tests above run the sources.
    execFileSync(process.execPath, ["build.mjs"], { cwd: path.join(repoRoot, "server"), stdio: "pipe" });
    const dir = mkdtempSync(path.join(tmpdir(), "flick-bundle-"));
    const server = await startServerProcess({ DATA_DIR: dir }, 60_000, "bundle");
    try {
      expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ ok: true, database: "pglite" });
      expect(server.setupUrl).toMatch(/\/setup#/);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it("refuses a second server on the same embedded database", async () => {
    const first = await startServerProcess({ DATA_DIR: dataDir });
    try {
      const second = await runServerExpectingFailure({ DATA_DIR: dataDir });
      expect(second.code).toBe(1);
      expect(second.output).toMatch(/another Flick process \(pid \d+\) is using/);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    } finally {
      await first.stop();
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    "runs the same build on PostgreSQL when DATABASE_URL is set",
    async () => {
      const db = await freshDatabase("postgres");
      const url = db.options.driver === "postgres" ? db.options.url : "";
      await db.handle.close();
      const server = await startServerProcess({ DATABASE_URL: url, DATA_DIR: dataDir });
      try {
        const ready = await fetch(`${server.url}/readyz`);
        expect(await ready.json()).toEqual({ ok: true, database: "postgres" });
        expect(server.setupUrl).toMatch(/\/setup#/);
      } finally {
        await server.stop();
        await db.drop();
      }
    },
  );
});
