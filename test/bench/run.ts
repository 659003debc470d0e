// `pnpm bench [name…]`: runs the named benchmarks (all when none is named) and writes
// JSON + Markdown reports under test/bench/results/.
const benches: Record<string, () => Promise<void>> = {
  ingest: async () => (await import("./ingest.ts")).run(),
  decide: async () => (await import("./decide.ts")).run(),
  web: async () => (await import("./web.ts")).run(),
  nab: async () => (await import("./nab.ts")).run(),
  quality: async () => (await import("./quality.ts")).run(),
};

const names = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith("--") && !all[i - 1]?.startsWith("--"));
const chosen = names.length > 0 ? names : Object.keys(benches);
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n== bench ${name}`);
  await bench();
}
process.exit(0);

export {};
