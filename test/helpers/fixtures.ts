import { createHmac } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./server-process.ts";

/** The team's real third-party payloads live in ../shared/fixtures beside the repository. */
export const fixturesDir = path.resolve(
  process.env.FLICK_FIXTURES ?? path.join(repoRoot, "../shared/fixtures"),
);

export function fixture(rel: string): string {
  const file = path.join(fixturesDir, rel);
  if (!existsSync(file)) {
    throw new Error(
      `fixture ${file} is missing: the team's shared/ folder must sit beside the repository (or set FLICK_FIXTURES)`,
    );
  }
  return readFileSync(file, "utf8");
}

export function githubFixtures(): { event: string; file: string; body: string }[] {
  const dir = path.join(fixturesDir, "github-webhooks");
  const out: { event: string; file: string; body: string }[] = [];
  for (const event of readdirSync(dir, { withFileTypes: true })) {
    if (!event.isDirectory()) continue;
    for (const file of readdirSync(path.join(dir, event.name))) {
      if (file.endsWith(".json"))
        out.push({ event: event.name, file, body: fixture(`github-webhooks/${event.name}/${file}`) });
    }
  }
  return out;
}

export function filesIn(rel: string, ext = ".json"): string[] {
  return readdirSync(path.join(fixturesDir, rel))
    .filter((f) => f.endsWith(ext))
    .map((f) => `${rel}/${f}`);
}

export function hmacSha256Hex(secret: string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
