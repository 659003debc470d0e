import { createHmac, randomUUID } from "node:crypto";
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

/**
 * The fixture's push webhook made a push to its repository's default branch (a deploy), from
 * `before` to `after` (each one character, repeated to a sha), pushed at `at` (ms): the body and
 * the headers a GitHub source signed with `secret` accepts.
 */
export function deployPush(
  secret: string,
  at: number,
  before: string,
  after: string,
): { body: string; headers: Record<string, string> } {
  const push = JSON.parse(fixture("github-webhooks/push/with-new-branch.payload.json")) as Record<
    string,
    unknown
  >;
  const repo = push.repository as Record<string, unknown>;
  const body = JSON.stringify({
    ...push,
    ref: `refs/heads/${repo.default_branch}`,
    repository: { ...repo, pushed_at: Math.floor(at / 1000) },
    before: before.repeat(40),
    after: after.repeat(40),
    created: false,
    deleted: false,
  });
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${hmacSha256Hex(secret, body)}`,
    },
  };
}

/** Five customers asking for one thing in their own words (a feedback cluster's worth). */
export const CSV_EXPORT_ASKS = [
  "Please add an export to CSV of my workouts",
  "I would love a CSV export of my workouts",
  "Would be great to export workouts to CSV",
  "please add csv export for workouts data",
  "need a way to export my workouts as CSV",
];
