import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resultsDir } from "./lib.ts";

// `pnpm bench [name…]`: runs the named benchmarks (all when none is named); each writes its own
// JSON + Markdown under test/bench/results/, and every run rewrites report.md / report.json, the
// one report that gathers the newest result of every benchmark.
const benches: Record<string, () => Promise<void>> = {
  ingest: async () => (await import("./ingest.ts")).run(),
  decide: async () => (await import("./decide.ts")).run(),
  agents: async () => (await import("./agents.ts")).run(),
  server: async () => (await import("./server.ts")).run(),
  followups: async () => (await import("./followups.ts")).run(),
  web: async () => (await import("./web.ts")).run(),
  nab: async () => (await import("./nab.ts")).run(),
  quality: async () => (await import("./quality.ts")).run(),
};

const names = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith("--") && !all[i - 1]?.startsWith("--"));
const chosen = names.length > 0 ? names : Object.keys(benches);
const seconds: Record<string, number> = {};
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n== bench ${name}`);
  const started = performance.now();
  await bench();
  seconds[name] = Math.round((performance.now() - started) / 1000);
}

const sections: string[] = [];
const json: Record<string, unknown> = {};
for (const name of Object.keys(benches)) {
  const md = path.join(resultsDir, `${name}.md`);
  if (!existsSync(md)) continue;
  json[name] = JSON.parse(readFileSync(path.join(resultsDir, `${name}.json`), "utf8"));
  // Each benchmark's own "# x benchmark" heading becomes a section of the report.
  sections.push(readFileSync(md, "utf8").replace(/^# (\w+) benchmark/, "## $1"));
}
const ran = chosen.map((n) => `${n} ${seconds[n]} s`).join(", ");
writeFileSync(
  path.join(resultsDir, "report.md"),
  `# Flick benchmark report\n\nWritten ${new Date().toISOString()}; this run: ${ran}. Sections not run this time keep their last result (each says when it ran).\n\n${sections.join("\n")}`,
);
writeFileSync(path.join(resultsDir, "report.json"), `${JSON.stringify({ seconds, ...json }, null, 2)}\n`);
console.log(`\nreport: ${path.join(resultsDir, "report.md")} (${ran})`);
process.exit(0);
