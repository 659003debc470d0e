// `pnpm demo`: replays every fixture into a running Flick.
//   FLICK_URL   where Flick runs (default http://127.0.0.1:8080)
//   FLICK_TOKEN an admin API token (POST /api/tokens, or Settings)
import { fixturesDir } from "../helpers/fixtures.ts";
import { replayFixtures } from "./replay.ts";

const baseUrl = process.env.FLICK_URL ?? "http://127.0.0.1:8080";
const token = process.env.FLICK_TOKEN;
if (!token) {
  console.error(
    "pnpm demo: set FLICK_TOKEN to an admin API token (create one with POST /api/tokens while signed in as an admin)",
  );
  process.exit(2);
}
const started = performance.now();
try {
  const r = await replayFixtures({ baseUrl, token, fixturesDir, log: (l) => console.log(`  ${l}`) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `replayed ${r.signals} signals in ${r.requests} requests (${seconds} s); new sources: ${r.sources.join(", ") || "none"}`,
  );
  console.log(`open ${baseUrl} — the agents turn them into cards within seconds.`);
} catch (err) {
  console.error(`pnpm demo: ${(err as Error).message}`);
  process.exit(1);
}
