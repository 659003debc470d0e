import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { repoRoot } from "./server-process.ts";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Debian's Chromium, headless, with the flags this closed network needs. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}; install Debian's chromium (see .ci/run)`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      ...extraArgs,
    ],
  });
}

/** Builds the web app once into a test folder, so e2e runs exactly what production serves. */
export function buildWeb(): string {
  const outDir = path.join(repoRoot, "test/.e2e-web-dist");
  execFileSync(
    process.execPath,
    [
      path.join(repoRoot, "web/node_modules/vite/bin/vite.js"),
      "build",
      "--outDir",
      outDir,
      "--emptyOutDir",
      "--logLevel",
      "warn",
    ],
    // vitest sets NODE_ENV=test, which would make Vite build a development bundle.
    { cwd: path.join(repoRoot, "web"), stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } },
  );
  return outDir;
}

/** A spoken sentence as a WAV file, made with espeak-ng, for Chromium's fake microphone. */
export function spokenWav(text: string, file: string): string {
  execFileSync("espeak-ng", ["-w", file, "-s", "150", text]);
  return file;
}
