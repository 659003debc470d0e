import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "results");

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export function markdown(tables: Table[]): string {
  return tables
    .map((t) => {
      const head = `| ${t.columns.join(" | ")} |\n| ${t.columns.map(() => "---").join(" | ")} |`;
      const body = t.rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
      const notes = (t.notes ?? []).map((n) => `- ${n}`).join("\n");
      return `### ${t.title}\n\n${head}\n${body}\n${notes ? `\n${notes}\n` : ""}`;
    })
    .join("\n");
}

export function writeReport(name: string, data: unknown, tables: Table[]): string {
  mkdirSync(resultsDir, { recursive: true });
  const md = `# ${name} benchmark\n\nRun ${new Date().toISOString()} on ${process.platform} ${process.arch}, Node ${process.version}.\n\n${markdown(tables)}`;
  writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(path.join(resultsDir, `${name}.md`), md);
  return md;
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
