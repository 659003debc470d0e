// `pnpm bench agents [--series N] [--points N] [--pods]`: how fast the agent runtime turns metric points into
// what the metrics agent knows — points posted through the real ingest endpoint, then drained by
// one runtime (batches of 200, every built-in agent, state read and written per batch) on each
// database. The clock is a fake one: the points are a minute apart in time, sent as fast as they go.
import { drivers, startTestApp } from "../helpers/harness.ts";
import { arg, round, type Table, writeReport } from "./lib.ts";

interface Result {
  driver: string;
  series: number;
  points: number;
  signals: number;
  seconds: number;
  perSec: number;
}

async function benchDriver(
  driver: "pglite" | "postgres",
  series: number,
  points: number,
  pods: boolean,
): Promise<Result> {
  const t = await startTestApp(driver);
  try {
    const admin = await t.setupAdmin();
    // One series mapped to an action, as a team's would be (the silence agent watches it).
    const source = await t.createSource(admin, "metrics", { actions: { m0: "rollback" } });
    const start = t.clock.now().getTime() - 3 * 86_400_000;
    const send = async (from: number, n: number) => {
      for (let k = from; k < from + n; k += 10) {
        const body = [];
        for (let i = k; i < Math.min(k + 10, from + n); i++)
          for (let s = 0; s < series; s++)
            body.push({
              name: `m${s}`,
              // --pods: each series as one pod sends it (a replica label: the agent keeps who sends each metric).
              labels: pods ? { zone: "a", pod: `shop-7d9f-${s}` } : { zone: "a" },
              ts: new Date(start + i * 60_000).toISOString(),
              value: 100 + Math.sin(i / 30 + s) * 10 + Math.random(),
            });
        const res = await t.request(`/ingest/${source.id}`, {
          json: body,
          origin: null,
          headers: { authorization: `Bearer ${source.secret}` },
        });
        if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${res.text}`);
      }
    };
    // Past the detectors' warm-up first: the measured points are scored, not only learned.
    await send(0, 400);
    await t.drain();
    await send(400, points);
    const started = performance.now();
    const signals = await t.drain();
    const seconds = (performance.now() - started) / 1000;
    return {
      driver,
      series,
      points,
      signals,
      seconds: round(seconds, 2),
      perSec: Math.round(signals / seconds),
    };
  } finally {
    await t.close();
  }
}

export async function run(): Promise<void> {
  const series = Number(arg("series", "20"));
  const points = Number(arg("points", "600"));
  const pods = process.argv.includes("--pods");
  const results: Result[] = [];
  for (const d of drivers) {
    console.log(`  ${d}: ${series} series × ${points} points…`);
    results.push(await benchDriver(d, series, points, pods));
  }
  const tables: Table[] = [
    {
      title: `Metric points through the agent runtime (${series} series${pods ? " sent per pod" : ""} × ${points} points a minute apart, after 400 of warm-up)`,
      columns: ["driver", "signals", "seconds", "signals/s"],
      rows: results.map((r) => [r.driver, r.signals, r.seconds, r.perSec]),
      notes: [
        "One runtime, batches of 200, in the bench's process (no HTTP in the timed part): claim, every built-in agent, state and cards written per batch.",
        "Each point is one signal; each series' detector state (~30 KB as JSON) is read and written once a batch, its calm copy (without the season, ~3 KB) every 60 points.",
      ],
    },
  ];
  console.log(writeReport("agents", { results }, tables));
}
