// `pnpm bench nab [--data DIR] [--labels FILE] [--out DIR] [--detector flick|windowedGaussian|all] [--detail]`
// Streams every NAB series through the detector point by point, writes NAB-format result files
// (timestamp,value,anomaly_score,label) and prints the three NAB scores beside the scoreboard.
// --detail also prints, per file, each window's reward and the false positives at the standard threshold.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fixturesDir } from "../helpers/fixtures.ts";
import { arg, resultsDir, round, type Table, writeReport } from "./lib.ts";
import { loadCorpus } from "./nab/corpus.ts";
import { detectors } from "./nab/detectors.ts";
import { NAB_PROFILES, type ProfileResult, type ScoredFile, scoreCorpus, sweepScores } from "./nab/score.ts";

export async function run(): Promise<void> {
  const dataDir = path.resolve(arg("data", path.join(fixturesDir, "nab/data")));
  const labelsFile = path.resolve(arg("labels", path.join(dataDir, "../labels/combined_windows.json")));
  const outDir = path.resolve(arg("out", path.join(resultsDir, "nab")));
  const which = arg("detector", "all");
  const names = which === "all" ? Object.keys(detectors) : [which];
  const corpus = loadCorpus(dataDir, labelsFile);
  const points = corpus.reduce((n, s) => n + s.values.length, 0);
  console.log(
    `${corpus.length} series, ${points} points, ${corpus.reduce((n, s) => n + s.windows.length, 0)} windows`,
  );

  const results: Record<string, { seconds: number; profiles: ProfileResult[] }> = {};
  for (const name of names) {
    const detect = detectors[name];
    if (!detect) throw new Error(`unknown detector "${name}"; known: ${Object.keys(detectors).join(", ")}`);
    const started = performance.now();
    const files = corpus.map((series) => {
      const scores = detect(series.timestamps, series.values);
      const [category, file] = series.name.split("/") as [string, string];
      const dir = path.join(outDir, name, category);
      mkdirSync(dir, { recursive: true });
      const inWindow = (t: number) => series.windows.some(([a, b]) => t >= a && t <= b);
      const rows = series.timestamps.map(
        (t, i) => `${series.rawTimestamps[i]},${series.values[i]},${scores[i]},${inWindow(t) ? 1 : 0}`,
      );
      writeFileSync(
        path.join(dir, `${name}_${file}`),
        `timestamp,value,anomaly_score,label\n${rows.join("\n")}\n`,
      );
      return { name: series.name, timestamps: series.timestamps, scores, windows: series.windows };
    });
    const seconds = (performance.now() - started) / 1000;
    const profiles = Object.entries(NAB_PROFILES).map(([p, profile]) => scoreCorpus(files, p, profile));
    results[name] = { seconds, profiles };
    if (process.argv.includes("--detail")) printDetail(files, profiles[0] as ProfileResult);
    console.log(
      `${name}: ${profiles.map((p) => `${p.profile} ${round(p.normalized, 1)}`).join(", ")} (${round(seconds, 1)} s, ${round(points / seconds / 1000, 0)}k points/s)`,
    );
  }

  const board = path.join(dataDir, "../results/final_results.json");
  const published: Record<string, Record<string, number>> = existsSync(board)
    ? JSON.parse(readFileSync(board, "utf8"))
    : {};
  const rows: (string | number)[][] = [];
  for (const [name, r] of Object.entries(results)) {
    const by = Object.fromEntries(r.profiles.map((p) => [p.profile, p.normalized]));
    rows.push([
      `**${name}** (this run)`,
      round(by.standard ?? 0, 1),
      round(by.reward_low_FP_rate ?? 0, 1),
      round(by.reward_low_FN_rate ?? 0, 1),
    ]);
  }
  const ranked = Object.entries(published)
    .filter(([, s]) => typeof s.standard === "number")
    .sort((a, b) => (b[1].standard ?? 0) - (a[1].standard ?? 0));
  for (const [name, s] of ranked) {
    rows.push([
      name,
      round(s.standard ?? 0, 1),
      round(s.reward_low_FP_rate ?? 0, 1),
      round(s.reward_low_FN_rate ?? 0, 1),
    ]);
  }
  const tables: Table[] = [
    {
      title: `NAB scores (${corpus.length} series, ${points} points)`,
      columns: ["detector", "standard", "reward low FP", "reward low FN"],
      rows,
      notes: [
        "Scored by test/bench/nab/score.ts, a TypeScript port of NAB's sweeper: windows, sigmoid weighting, probationary 15%, one threshold swept over all files per profile, normalized null=0 perfect=100.",
        "windowedGaussian is NAB's own baseline ported line by line; its published scores check the scorer port.",
        `Published rows from ${path.relative(process.cwd(), board)}.`,
      ],
    },
    {
      title: "Detail at the chosen thresholds",
      columns: [
        "detector",
        "profile",
        "threshold",
        "windows found",
        "points flagged in windows",
        "false positive points",
        "seconds",
      ],
      rows: Object.entries(results).flatMap(([name, r]) =>
        r.profiles.map((p) => [
          name,
          p.profile,
          round(p.threshold, 4),
          `${p.detectedWindows}/${p.windows}`,
          p.tp,
          p.fp,
          round(r.seconds, 1),
        ]),
      ),
    },
  ];
  console.log(writeReport("nab", { results, published }, tables));
  console.log(`NAB-format results in ${path.relative(process.cwd(), outDir)}/`);
}

/** Per file: the reward each window earned (-1 = missed) and the false positives, at the chosen threshold. */
function printDetail(files: ScoredFile[], chosen: ProfileResult): void {
  const profile = NAB_PROFILES[chosen.profile] as (typeof NAB_PROFILES)[string];
  for (const file of files) {
    const rewards = new Map<string, number>();
    let fpCount = 0;
    let fpCost = 0;
    for (const p of sweepScores(file, profile)) {
      const hit = p.score >= chosen.threshold;
      if (p.window) {
        const best = rewards.get(p.window) ?? -profile.fnWeight;
        rewards.set(p.window, hit ? Math.max(best, p.sweepScore) : best);
      } else if (hit) {
        fpCount++;
        fpCost += p.sweepScore;
      }
    }
    const windows = [...rewards.values()].map((r) => r.toFixed(2)).join(" ") || "-";
    console.log(
      `${file.name.padEnd(58)} windows ${windows.padEnd(32)} false positives ${fpCount} (${fpCost.toFixed(2)})`,
    );
  }
}
