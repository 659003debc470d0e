import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface NabSeries {
  /** Relative path like "realKnownCause/nyc_taxi.csv", as in NAB's labels. */
  name: string;
  rawTimestamps: string[];
  timestamps: number[];
  values: number[];
  windows: [number, number][];
}

/** NAB writes times as "2014-04-10 07:15:00.000000" in no zone; read them as UTC. */
export function parseNabTime(text: string): number {
  const t = Date.parse(
    `${text
      .trim()
      .replace(" ", "T")
      .replace(/\.\d+$/, "")}Z`,
  );
  if (Number.isNaN(t)) throw new Error(`not a NAB timestamp: "${text}"`);
  return t;
}

/** Loads every CSV under a folder laid out like NAB's data/, with its windows from a labels file. */
export function loadCorpus(dataDir: string, labelsFile: string): NabSeries[] {
  if (!existsSync(dataDir)) throw new Error(`NAB data folder not found: ${dataDir}`);
  if (!existsSync(labelsFile)) throw new Error(`NAB windows file not found: ${labelsFile}`);
  const labels = JSON.parse(readFileSync(labelsFile, "utf8")) as Record<string, [string, string][]>;
  const out: NabSeries[] = [];
  for (const category of readdirSync(dataDir, { withFileTypes: true })) {
    if (!category.isDirectory()) continue;
    for (const file of readdirSync(path.join(dataDir, category.name)).sort()) {
      if (!file.endsWith(".csv")) continue;
      const name = `${category.name}/${file}`;
      const lines = readFileSync(path.join(dataDir, name), "utf8").split(/\r?\n/).filter(Boolean);
      const header = (lines.shift() ?? "").split(",");
      const ti = header.indexOf("timestamp");
      const vi = header.indexOf("value");
      if (ti < 0 || vi < 0) throw new Error(`${name}: expected a "timestamp,value" header`);
      const rawTimestamps: string[] = [];
      const timestamps: number[] = [];
      const values: number[] = [];
      for (const line of lines) {
        const cols = line.split(",");
        rawTimestamps.push(cols[ti] as string);
        timestamps.push(parseNabTime(cols[ti] as string));
        values.push(Number(cols[vi]));
      }
      const windows = (labels[name] ?? []).map(
        ([a, b]) => [parseNabTime(a), parseNabTime(b)] as [number, number],
      );
      if (!(name in labels))
        console.warn(`${name}: no entry in ${path.basename(labelsFile)}; scored as having no anomalies`);
      out.push({ name, rawTimestamps, timestamps, values, windows });
    }
  }
  if (out.length === 0) throw new Error(`no CSV files under ${dataDir}/<category>/`);
  return out;
}
