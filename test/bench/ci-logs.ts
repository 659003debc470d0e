import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { extractErrorLines } from "@flick/server/ci-log-errors";

export interface LogCase {
  name: string;
  fail: string;
  pass: string;
  /** Error lines (E) and acceptable context lines (C), 1-based. */
  errors: Set<number>;
  context: Set<number>;
}

export function loadLogCases(dir: string): LogCase[] {
  return readdirSync(dir)
    .filter((d) => statSync(path.join(dir, d)).isDirectory())
    .sort()
    .map((name) => {
      const read = (f: string) => readFileSync(path.join(dir, name, f), "utf8");
      const errors = new Set<number>();
      const context = new Set<number>();
      for (const line of read("groundtruth").split("\n").slice(1)) {
        const m = /^([EC]) (\d+)(?:-(\d+))?/.exec(line);
        if (!m) continue;
        for (let i = Number(m[2]); i <= Number(m[3] ?? m[2]); i++) (m[1] === "E" ? errors : context).add(i);
      }
      return { name, fail: read("fail.log"), pass: read("pass.log"), errors, context };
    });
}

/** Line-level precision and recall; context lines are neither right nor wrong. */
export function measure(cases: LogCase[], withPass: boolean) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const perCase = cases.map((c) => {
    const got = new Set(extractErrorLines(c.fail, withPass ? c.pass : undefined));
    let t = 0;
    let f = 0;
    for (const n of got) {
      if (c.errors.has(n)) t++;
      else if (!c.context.has(n)) f++;
    }
    const missed = [...c.errors].filter((n) => !got.has(n)).length;
    tp += t;
    fp += f;
    fn += missed;
    return { name: c.name, found: t, wrong: f, missed };
  });
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), perCase };
}
