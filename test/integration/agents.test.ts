import { randomUUID } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as schema from "@flick/server/schema";
import { wakeSnoozedCards } from "@flick/server/snooze";
import type { Card, IngestResult, Source, Verification } from "@flick/shared";
import { and, asc, eq, inArray, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../bench/nab/corpus.ts";
import { insertCard } from "../helpers/db.ts";
import { dependabotGroup } from "../helpers/dependency-bots.ts";
import { CSV_EXPORT_ASKS, fixture, fixturesDir, hmacSha256Hex } from "../helpers/fixtures.ts";
import { git, makeRepo } from "../helpers/git.ts";
import { gitDataApi } from "../helpers/github-git.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { startRecorder } from "../helpers/http-recorder.ts";

type Json = Record<string, unknown>;
const minute = 60_000;

/**
 * The built-in agents, fed real fixture signals through the real ingest endpoints and the real
 * agent runtime. Where a fixture needs a different branch, conclusion or time to make the case,
 * the test says which field it changes.
 */
describe.each(drivers)("built-in agents on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let gh: Source;
  let metrics: Source;
  let sentry: Source;
  let feedback: Source;
  let githubApi: Awaited<ReturnType<typeof startRecorder>>;
  const failLog = fixture("ci-logs/cidiff_57/fail.log");
  /** Job logs the local GitHub serves by job id (any other job gets `failLog`). */
  const jobLogs = new Map<number, string>();
  /**
   * Pull requests the local GitHub answers GET /repos/Codertocat/Hello-World/pulls/:number with, by
   * number (others: 404, as for a token that cannot see them).
   */
  const pulls = new Map<number, Json>();
  /** acme/app#45's state on the local GitHub (the feedback issue the tests open). */
  let issue45: Json = { state: "open", state_reason: null, closed_at: null };
  /**
   * acme/ci-fix's history, a real git repository the local GitHub answers the git data routes from
   * (refs, commits, trees, compare), as GitHub would: the CI tests push commits to it.
   */
  const fixRepo = makeRepo("flick-ci-fix-", {
    "cart.js": "export const total = 0;\n",
    "README.md": "# shop\n",
  });
  git(fixRepo, "branch", "-m", "master");
  const fixApi = gitDataApi(fixRepo, "acme/ci-fix", "");
  /** acme/roll's history, the same way: the correlator's revert tests deploy commits of it. */
  const rollRepo = makeRepo("flick-roll-", {
    "cart.js": "export const total = 0;\n",
    "README.md": "# shop\n",
  });
  git(rollRepo, "branch", "-m", "master");
  const rollApi = gitDataApi(rollRepo, "acme/roll", "");

  beforeAll(async () => {
    // A local server speaking GitHub's job-log route, serving a real failed build log.
    githubApi = await startRecorder((req) => {
      const job = /\/actions\/jobs\/(\d+)\/logs$/.exec(req.path);
      if (job) return { status: 200, text: jobLogs.get(Number(job[1])) ?? failLog };
      const fromGit = fixApi(req) ?? rollApi(req);
      if (fromGit) return fromGit;
      const pull = /^\/repos\/Codertocat\/Hello-World\/pulls\/(\d+)$/.exec(req.path);
      const known = pull && pulls.get(Number(pull[1]));
      if (req.method === "GET" && known) return { status: 200, body: known };
      // The "release" branch's rulesets: merges go through a merge queue, after an approval and a
      // green linter (the check the fixtures' check runs are of). Other branches have no rules.
      if (
        req.method === "GET" &&
        req.path.split("?")[0] === "/repos/Codertocat/Hello-World/rules/branches/release"
      )
        return {
          status: 200,
          body: [
            { type: "merge_queue", parameters: { merge_method: "SQUASH", max_entries_to_merge: 5 } },
            { type: "pull_request", parameters: { required_approving_review_count: 1 } },
            {
              type: "required_status_checks",
              parameters: { required_status_checks: [{ context: "Octocoders-linter" }] },
            },
          ],
        };
      if (
        req.method === "GET" &&
        req.path.split("?")[0] === "/repos/Codertocat/Hello-World/rules/branches/master"
      )
        return { status: 200, body: [] };
      // GitHub's GraphQL: adding a pull request to its merge queue (the one mutation Flick sends).
      if (req.method === "POST" && req.path === "/graphql")
        return {
          status: 200,
          body: { data: { enqueuePullRequest: { mergeQueueEntry: { position: 2 } } } },
        };
      // Where the rollback action the correlator's test sets up posts: it works.
      if (req.method === "POST" && req.path === "/rollback") return { status: 200, body: { ok: true } };
      // Issues: opened as #12; reopening and commenting answer as GitHub does.
      if (req.method === "POST" && req.path === "/repos/acme/shop/issues")
        return { status: 201, body: { number: 12, html_url: "https://github.com/acme/shop/issues/12" } };
      if (req.method === "PATCH" && req.path === "/repos/acme/shop/issues/12")
        return {
          status: 200,
          body: { number: 12, state: "open", html_url: "https://github.com/acme/shop/issues/12" },
        };
      if (req.method === "POST" && req.path === "/repos/acme/shop/issues/12/comments")
        return { status: 201, body: { id: 1 } };
      // The feedback issues' repository: opened as #45, commented on as GitHub does.
      if (req.method === "POST" && req.path === "/repos/acme/app/issues")
        return { status: 201, body: { number: 45, html_url: "https://github.com/acme/app/issues/45" } };
      if (req.method === "POST" && req.path === "/repos/acme/app/issues/45/comments")
        return {
          status: 201,
          body: { id: 2, html_url: "https://github.com/acme/app/issues/45#issuecomment-2" },
        };
      // GitHub's issue search: acme/wiki has issues about exporting (one is a pull request, which the
      // search lists too); other repositories have none.
      if (req.method === "GET" && req.path.startsWith("/search/issues?")) {
        const q = new URL(req.path, "http://x").searchParams.get("q") ?? "";
        const wiki = (n: number, title: string, pr = false, labels: string[] = []) => ({
          number: n,
          title,
          state: "open",
          html_url: `https://github.com/acme/wiki/${pr ? "pull" : "issues"}/${n}`,
          labels: labels.map((name) => ({ id: n, name, color: "d73a4a" })),
          ...(pr ? { pull_request: { url: "…" } } : {}),
        });
        return {
          status: 200,
          body: q.includes("repo:acme/wiki")
            ? {
                total_count: 6,
                items: [
                  wiki(27, "Export workouts to Strava and Garmin Connect"),
                  wiki(29, "Exporting workouts crashes the app", false, ["bug"]),
                  wiki(28, "Workouts export broken on Android"),
                  wiki(32, "Export settings to a file"),
                  wiki(30, "Export workouts faster", true),
                  wiki(31, "Export workouts as CSV or GPX"),
                ],
              }
            : { total_count: 0, items: [] },
        };
      }
      if (req.path === "/repos/acme/wiki/issues/31/comments")
        return {
          status: 201,
          body: { id: 7, html_url: "https://github.com/acme/wiki/issues/31#issuecomment-7" },
        };
      if (req.path === "/repos/acme/wiki/issues/31")
        return {
          status: 200,
          body: { number: 31, state: "open", html_url: "https://github.com/acme/wiki/issues/31" },
        };
      // #45 as GitHub has it now (the tests close it); reopening it opens it.
      if (req.path === "/repos/acme/app/issues/45") {
        if (req.method === "PATCH") issue45 = { state: "open", state_reason: "reopened", closed_at: null };
        return {
          status: 200,
          body: { number: 45, html_url: "https://github.com/acme/app/issues/45", ...issue45 },
        };
      }
      return { status: 404, body: {} };
    });
    t = await startTestApp(driver, { GITHUB_TOKEN: "ghp_test", GITHUB_API_URL: githubApi.url });
    admin = await t.setupAdmin();
    gh = await t.createSource(admin, "github");
    metrics = await t.createSource(admin, "metrics", { actions: { art_daily_jumpsdown: "rollback" } });
    sentry = await t.createSource(admin, "sentry", { repository: "acme/shop" });
    feedback = await t.createSource(admin, "feedback", { clusterThreshold: 4, repository: "acme/app" });
  });
  afterAll(async () => {
    await t?.close();
    await githubApi?.close();
    rmSync(fixRepo, { recursive: true, force: true });
    rmSync(rollRepo, { recursive: true, force: true });
  });

  const cards = (prefix: string) =>
    t.database.db
      .select()
      .from(schema.cards)
      .where(like(schema.cards.fingerprint, `${prefix}%`))
      .orderBy(asc(schema.cards.createdAt));
  /** The one card whose fingerprint begins with `prefix` (failing when there are more, or none). */
  const onlyCard = async (prefix: string) => {
    const found = await cards(prefix);
    expect(found).toHaveLength(1);
    return found[0] as typeof schema.cards.$inferSelect;
  };

  const github = async (event: string, payload: Json) => {
    const body = JSON.stringify(payload);
    const res = await t.request<IngestResult>(`/ingest/${gh.id}`, {
      body,
      origin: null,
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${hmacSha256Hex(gh.secret, body)}`,
      },
    });
    expect(res.status, res.text).toBe(202);
  };
  const ghFixture = (rel: string) => JSON.parse(fixture(`github-webhooks/${rel}`)) as Json;

  /**
   * A push to the default branch (the fixture pushed a new branch), now, from `before` to `after`
   * (each a character repeated to a sha), of the fixture's repository (Codertocat/Hello-World) or of
   * `repository`; `commits` (characters too) lists the commits it brought, else the fixture's one.
   */
  const deploy = (before: string, after: string, repository?: string, commits?: string[]) => {
    const push = ghFixture("push/with-new-branch.payload.json");
    const repo = push.repository as Json;
    return github("push", {
      ...push,
      ref: `refs/heads/${repo.default_branch}`,
      repository: {
        ...repo,
        ...(repository ? { full_name: repository } : {}),
        pushed_at: Math.floor(t.clock.now().getTime() / 1000),
      },
      before: before.repeat(40),
      after: after.repeat(40),
      created: false,
      deleted: false,
      ...(commits ? { commits: commits.map((c) => ({ id: c.repeat(40), message: `Commit ${c}` })) } : {}),
    });
  };

  const points = async (source: Source, body: unknown[]) => {
    const res = await t.request<IngestResult>(`/ingest/${source.id}`, {
      json: body,
      origin: null,
      headers: { authorization: `Bearer ${source.secret}` },
    });
    expect(res.status, res.text).toBe(202);
  };

  const sentryEvent = async (event: Json, to: Source = sentry) => {
    const dsn = new URL(to.sentryDsn ?? "");
    const res = await t.request<IngestResult>(`/api/${dsn.pathname.slice(1)}/store/`, {
      json: { ...event, event_id: randomUUID().replace(/-/g, "") },
      origin: null,
      headers: { "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.username}` },
    });
    expect(res.status, res.text).toBe(202);
  };

  /** A Sentry integration-platform webhook, signed with the source's client secret. */
  const sentryHook = async (resource: string, body: Json) => {
    const text = JSON.stringify(body);
    const res = await t.request<IngestResult>(`/ingest/${sentry.id}`, {
      body: text,
      origin: null,
      headers: {
        "content-type": "application/json",
        "sentry-hook-resource": resource,
        "sentry-hook-signature": hmacSha256Hex(sentry.secret, text),
        "request-id": randomUUID(),
      },
    });
    expect(res.status, res.text).toBe(202);
  };

  const decide = async (card: { id: string; version: number }, verdict: "accept" | "reject") => {
    const res = await t.request(`/api/cards/${card.id}/decisions`, {
      cookie: admin,
      json: { verdict, cardVersion: card.version, idempotencyKey: randomUUID() },
    });
    expect(res.status, res.text).toBe(201);
  };

  /**
   * Two hours on, then on to the next 06:00 UTC: a test whose card titles carry times ("back since
   * 14:05 UTC") gets hours within one day, whatever the tests before did with the clock (a time on
   * another day than now is written with its date).
   */
  const toMorning = () => {
    t.clock.advance(2 * 60 * minute);
    const day = 24 * 60 * minute;
    t.clock.advance((((6 * 60 * minute - t.clock.now().getTime()) % day) + day) % day);
  };

  /** Lets the undo window pass and runs every accepted change that is due; each must succeed. */
  const carryOut = async () => {
    t.clock.advance(8_001);
    const runner = t.executions();
    for (let r = await runner.runNext(); r; r = await runner.runNext()) expect(r.error).toBeUndefined();
  };

  /**
   * Prometheus' Alertmanager notifying a group (its fixture's notification with these alerts): each
   * alert's rule expression goes in the generatorURL Prometheus links back with.
   */
  const alertmanager = async (
    source: { id: string; secret: string },
    groupKey: string,
    alerts: { labels: Record<string, string>; summary: string; expr: string }[],
    status = "firing",
  ) => {
    const body = JSON.parse(fixture("alertmanager/prometheus-msteams__prom_post_request.json")) as Json & {
      alerts: Json[];
    };
    const res = await t.request(`/ingest/${source.id}`, {
      json: {
        ...body,
        status,
        groupKey,
        alerts: alerts.map((a) => ({
          ...body.alerts[0],
          status,
          labels: a.labels,
          annotations: { summary: a.summary },
          startsAt: t.clock.now().toISOString(),
          generatorURL: `http://prometheus:9090/graph?g0.expr=${encodeURIComponent(a.expr)}&g0.tab=1`,
        })),
      },
      origin: null,
      headers: { authorization: `Bearer ${source.secret}` },
    });
    expect(res.status, res.text).toBe(202);
    await t.drain();
  };

  const nab = () =>
    loadCorpus(
      path.join(fixturesDir, "nab/data"),
      path.join(fixturesDir, "nab/labels/combined_windows.json"),
    );
  const send = async (
    name: string,
    file: string,
    labels: Record<string, string> = {},
    order: <T>(all: T[]) => T[] = (all) => all,
  ) => {
    const series = nab().find((s) => s.name === file);
    if (!series) throw new Error(`${file} missing`);
    await points(
      metrics,
      order(
        series.values.map((value, i) => ({
          name,
          labels,
          ts: new Date(series.timestamps[i] as number).toISOString(),
          value,
        })),
      ),
    );
    await t.drain();
    return series;
  };

  describe("metric anomalies", () => {
    it("opens one card for a NAB series with a labelled drop, inside its window, proposing the configured action", async () => {
      const series = await send("art_daily_jumpsdown", "artificialWithAnomaly/art_daily_jumpsdown.csv");
      const found = await cards("metric:art_daily_jumpsdown");
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      const [start, end] = series.windows[0] as [number, number];
      const at = new Date((card.evidence as { firstSeen: string }).firstSeen).getTime();
      expect(at).toBeGreaterThanOrEqual(start);
      expect(at).toBeLessThanOrEqual(end);
      expect(card.title).toMatch(
        // Back by itself before anyone decided: the title says since when.
        /^art_daily_jumpsdown (dropped \d+%|fell to [\d.]+) at 2014-04-11 \d\d:\d\d UTC, back since 2014-04-1\d \d\d:\d\d UTC$/,
      );
      expect(card.change).toMatchObject({ type: "webhook", action: "rollback" });
      expect(card.kind).toBe("action");
      const preview = card.preview as { type: string; points: [number, number][]; marks: number[] };
      expect(preview.type).toBe("series");
      // The mark and the claim are on the point that broke, inside the labelled window.
      expect(preview.marks).toHaveLength(1);
      const marked = (preview.points[preview.marks[0] as number] as [number, number])[0];
      expect(marked).toBeGreaterThanOrEqual(start);
      expect(marked).toBeLessThanOrEqual(end);
      expect(card.title).toContain(new Date(marked).toISOString().slice(11, 16));
      expect(Object.keys(card.priorityFactors)).toEqual(
        expect.arrayContaining(["severity", "blastRadius", "confidence", "recency", "acceptRate"]),
      );
    });

    it("reads a request's points in time order, however the sender listed them", async () => {
      // A collector that flushes several buffers at once lists points out of order; the detector
      // keeps time order and ignores a point older than one it has seen, so the request is sorted.
      let seed = 11;
      const shuffle = <T>(all: T[]) => {
        const out = [...all];
        for (let i = out.length - 1; i > 0; i--) {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          const j = seed % (i + 1);
          [out[i], out[j]] = [out[j] as T, out[i] as T];
        }
        return out;
      };
      const series = await send(
        "jumps_shuffled",
        "artificialWithAnomaly/art_daily_jumpsdown.csv",
        {},
        shuffle,
      );
      const [card, ...more] = await cards("metric:jumps_shuffled");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card");
      const at = new Date((card.evidence as { firstSeen: string }).firstSeen).getTime();
      const [start, end] = series.windows[0] as [number, number];
      expect(at).toBeGreaterThanOrEqual(start);
      expect(at).toBeLessThanOrEqual(end);
    });

    it("tells of the point that surprised when the alarm comes a few points after it", async () => {
      // NAB's ec2_cpu_utilization_24ae8d: a spike to 1.44 at 03:35, and the score, averaged over
      // the last points, crosses the line seven points later (04:10) on an ordinary 0.13.
      const series = nab().find((s) => s.name === "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv");
      if (!series) throw new Error("fixture missing");
      await points(
        metrics,
        series.values.slice(0, 1321).map((value, i) => ({
          name: "ec2_cpu",
          ts: new Date(series.timestamps[i] as number).toISOString(),
          value,
        })),
      );
      await t.drain();
      const [card, ...more] = await cards("metric:ec2_cpu");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card");
      expect(card.title).toMatch(/^ec2_cpu rose [\d.]+× at 2014-02-19 03:35 UTC$/);
      const preview = card.preview as { points: [number, number][]; marks: number[] };
      expect(preview.points[preview.marks[0] as number]?.[1]).toBe(1.444);
      expect((card.evidence as { facts: Json }).facts).toMatchObject({ value: 1.444 });
      // Where an admin would choose the action it proposes: the source whose settings were read.
      expect((card.evidence as { settingsSource?: string }).settingsSource).toBe(metrics.id);
    });

    it('tells a change of a few percent in values, not as "rose 3%"', async () => {
      const start = t.clock.now().getTime() - 2 * 24 * 60 * minute;
      const at = (i: number) => new Date(start + i * 5 * minute).toISOString();
      await points(metrics, [
        ...Array.from({ length: 576 }, (_, i) => ({
          name: "disk_temperature",
          ts: at(i),
          value: 40 + 0.05 * Math.sin(i / 3),
        })),
        { name: "disk_temperature", ts: at(576), value: 41.2 },
      ]);
      await t.drain();
      const [card, ...more] = await cards("metric:disk_temperature");
      expect(more).toHaveLength(0);
      expect(card?.title).toMatch(
        /^disk_temperature broke from its usual pattern at \d\d:\d\d UTC \(41\.2, about 40(\.\d+)? expected\)$/,
      );
    });

    it("a break in a series' loaded past puts no rest on its live points: a live break right after is a card", async () => {
      const name = "past_break_ok";
      const now = t.clock.now().getTime();
      // Two days a point a minute, loaded as history, that leapt for ten minutes near its end.
      const past = Array.from({ length: 2880 }, (_, k) => ({
        name,
        ts: new Date(now - (2880 - k) * minute).toISOString(),
        value: k >= 2850 && k < 2860 ? 200 : 97 + Math.sin(k / 9),
        history: true,
      }));
      await points(metrics, past);
      await t.drain();
      expect(await cards(`metric:${name}`)).toEqual([]);
      // Live: a usual minute, then a fall — within the 150 points of rest the past's break would start.
      await points(metrics, [
        { name, ts: new Date(now).toISOString(), value: 97 },
        { name, ts: new Date(now + minute).toISOString(), value: 30 },
      ]);
      await t.drain();
      const [card, ...more] = await cards(`metric:${name}`);
      expect(more).toHaveLength(0);
      expect(card?.title).toMatch(/^past_break_ok dropped \d+% at /);
    });

    it("a rejected series stays quiet for breaks like the one rejected, but a far bigger one is a card again", async () => {
      const name = "burst_ms";
      const start = t.clock.now().getTime() - 5 * 24 * 60 * minute;
      let i = 0;
      // Steady points (with a break as the last of them), sent and drained.
      const run = async (n: number, last?: number) => {
        const batch = Array.from({ length: n }, (_, k) => ({
          name,
          ts: new Date(start + (i + k) * 5 * minute).toISOString(),
          value: last !== undefined && k === n - 1 ? last : 100 * (1 + 0.01 * Math.sin((i + k) / 7)),
        }));
        i += n;
        await points(metrics, batch);
        await t.drain();
      };
      await run(577, 115);
      const [first, ...more] = await cards(`metric:${name}`);
      expect(more).toHaveLength(0);
      expect(first?.title).toMatch(/^burst_ms rose 1\d% at /);
      await decide(first as { id: string; version: number }, "reject");
      // A break like the rejected one (30% against 15%): the mute keeps it quiet.
      await run(200, 130);
      expect((await cards(`metric:${name}`)).map((c) => c.status)).toEqual(["rejected"]);
      // Five times over: a card again, saying why it comes despite the mute.
      await run(200, 500);
      const pending = (await cards(`metric:${name}`)).filter((c) => c.status === "pending");
      expect(pending.map((c) => c.title)).toEqual([expect.stringMatching(/^burst_ms rose 5(\.\d+)?× at /)]);
      expect(pending[0]?.summary).toMatch(
        /Its card was rejected when it rose 1\d% \(([A-Z][a-z]{2} \d{1,2}|\d{4}-\d\d-\d\d)\); this break is far bigger, so it is here despite the mute\./,
      );
      // While that card is open, the next break (a drop this time) updates it; no other card.
      await run(200, 20);
      const after = (await cards(`metric:${name}`)).filter((c) => c.status === "pending");
      expect(after.map((c) => c.id)).toEqual([pending[0]?.id]);
      expect(after[0]?.title).toMatch(/^burst_ms (dropped|fell)/);
    });

    /**
     * Two days of a steady series every 5 minutes (576 points) sent and drained, but for point 570:
     * one collector's point that reaches Flick after the other's, up to 575.
     */
    const allButLate = async (name: string) => {
      const start = t.clock.now().getTime() - 2 * 24 * 60 * minute;
      const point = (i: number, value = 98 + Math.sin(i / 7)) => ({
        name,
        ts: new Date(start + i * 5 * minute).toISOString(),
        value,
      });
      const steady = Array.from({ length: 576 }, (_, i) => point(i));
      await points(
        metrics,
        steady.filter((_, i) => i !== 570),
      );
      await t.drain();
      return { start, point };
    };

    it("draws a point that arrived in a later request in its place on the chart", async () => {
      const { start, point } = await allButLate("late_checkout");
      await points(metrics, [point(570)]);
      await t.drain();
      await points(metrics, [point(576, 40)]);
      await t.drain();
      const [card] = await cards("metric:late_checkout");
      if (!card) throw new Error("no card for the drop");
      const drawn = (card.preview as { points: [number, number][] }).points.map(([ts]) => ts);
      expect(drawn).toEqual([...drawn].sort((a, b) => a - b));
      expect(drawn).toContain(start + 570 * 5 * minute);
      expect(drawn.at(-1)).toBe(start + 576 * 5 * minute);
    });

    it("a late point beyond anything the series did is still an alarm, told at its own time and marked in its place", async () => {
      const { start, point } = await allButLate("late_drop");
      // An ordinary value arriving late (point 565 again, from another collector) is no card.
      await points(metrics, [{ ...point(565), ts: new Date(start + 565 * 5 * minute + 1000).toISOString() }]);
      await t.drain();
      expect(await cards("metric:late_drop")).toHaveLength(0);
      // Point 570, delivered after 575, fell to 40: a card about 570, not about the newest point.
      await points(metrics, [point(570, 40)]);
      await t.drain();
      const [card, ...more] = await cards("metric:late_drop");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card for the late drop");
      const at = new Date(start + 570 * 5 * minute).toISOString().slice(11, 16);
      expect(card.title).toBe(`late_drop dropped 59% at ${at} UTC`);
      const preview = card.preview as { points: [number, number][]; marks: number[] };
      expect(preview.marks.map((i) => preview.points[i]?.[0])).toEqual([start + 570 * 5 * minute]);
    });

    it("says a series changed its pattern when its spikes come closer together, shading the stretch", async () => {
      // NAB's load-balancer series: the same spikes as always, but more of them inside its window.
      const series = await send("lb_spikes", "artificialWithAnomaly/art_load_balancer_spikes.csv");
      const [card, ...more] = await cards("metric:lb_spikes");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card");
      expect(card.title).toMatch(/^lb_spikes changed its pattern since 2014-04-11 \d\d:\d\d UTC$/);
      expect(card.summary).toMatch(
        /^Since 2014-04-11 \d\d:\d\d UTC it averaged [\d.]+, 90% of points under [\d.]+; no stretch in the 10 days before looked like that \(the closest averaged [\d.]+, 90% under [\d.]+\)\./,
      );
      const facts = (card.evidence as { facts: Record<string, number | string> }).facts;
      expect(Number(facts.mean)).toBeGreaterThan(2 * Number(facts.closestMean));
      // The chart shades the changed stretch, from its start to the point that raised the alarm
      // (marked), both inside the labelled window.
      const preview = card.preview as { points: [number, number][]; marks: number[]; span: [number, number] };
      expect(preview.marks).toEqual([preview.points.length - 1]);
      expect(preview.span[1]).toBe(preview.points.length - 1);
      const [start, end] = series.windows[0] as [number, number];
      const [from, to] = preview.span.map((i) => (preview.points[i] as [number, number])[0]);
      expect(from).toBeLessThan(to as number);
      expect(from).toBeGreaterThanOrEqual(start);
      expect(to).toBeLessThanOrEqual(end);
      expect(new Date(facts.since as string).getTime()).toBe(from);

      // A later alarm of another kind on the same card: its facts are that alarm's alone, not
      // mixed with the pattern's (a "since" and a "closestMean" beside a single value).
      const lastAt = series.timestamps[series.timestamps.length - 1] as number;
      const top = Math.max(...series.values);
      await points(metrics, [
        { name: "lb_spikes", ts: new Date(lastAt + 5 * minute).toISOString(), value: 10 * top },
      ]);
      await t.drain();
      const [updated] = await cards("metric:lb_spikes");
      if (!updated) throw new Error("the card is gone");
      expect(updated.title).toMatch(
        /^lb_spikes (rose [\d.]+×|jumped to [\d.]+) at 2014-04-15 \d\d:\d\d UTC$/,
      );
      const latest = (updated.evidence as { facts: Record<string, number | string> }).facts;
      // Four significant digits beside the title (32.248149307 reads as 32.25).
      expect(latest).toMatchObject({ value: Number((10 * top).toPrecision(4)) });
      expect(String(latest.value).replace(/\D/g, "")).toHaveLength(4);
      expect(Object.keys(latest)).not.toContain("since");
      expect(Object.keys(latest)).not.toContain("closestMean");
    });

    it("keeps a series quiet once its threshold was raised above the drop's score (a follow-up's effect)", async () => {
      const series = nab().find((x) => x.name === "artificialWithAnomaly/art_daily_jumpsdown.csv");
      if (!series) throw new Error("series missing");
      const half = (from: number, to: number) =>
        points(
          metrics,
          series.values.slice(from, to).map((value, i) => ({
            name: "jumps_quiet",
            ts: new Date(series.timestamps[from + i] as number).toISOString(),
            value,
          })),
        ).then(() => t.drain());
      // The same series that opens a card above, in two halves; between them the series' alarm
      // level is raised to 0.9 (its drop scores about 0.55), as "only alert above 0.9" does.
      await half(0, 2000);
      const key = and(
        eq(schema.agentStates.agent, "metrics"),
        eq(schema.agentStates.key, "metric:jumps_quiet{}"),
      );
      const [before] = await t.database.db.select().from(schema.agentStates).where(key);
      expect(before).toBeDefined();
      await t.database.db
        .update(schema.agentStates)
        .set({
          state: { ...(before?.state as object), alarmLevel: 0.9 },
          version: (before?.version ?? 0) + 1,
        })
        .where(key);
      await half(2000, series.values.length);
      expect(await cards("metric:jumps_quiet")).toHaveLength(0);
      const [after] = await t.database.db.select().from(schema.agentStates).where(key);
      expect((after?.state as { alarmLevel?: number } | undefined)?.alarmLevel).toBe(0.9);
    });

    it("opens no card for NAB series with no anomaly (noise, a clean daily cycle)", async () => {
      await send("art_daily_small_noise", "artificialNoAnomaly/art_daily_small_noise.csv");
      await send("art_daily_no_noise", "artificialNoAnomaly/art_daily_no_noise.csv");
      expect(await cards("metric:art_daily_small_noise")).toHaveLength(0);
      expect(await cards("metric:art_daily_no_noise")).toHaveLength(0);
    });

    it("stays silent for a muted series: rejecting the card mutes the fingerprint", async () => {
      const [card] = await cards("metric:art_daily_jumpsdown");
      if (!card) throw new Error("no card");
      await decide(card, "reject");
      // A second drop on the same series, after the first series' last point: below anything the
      // series did (an alarm), a little deeper than the one rejected (not news past the mute).
      const last = Date.parse("2014-04-14T23:55:00Z");
      await points(
        metrics,
        Array.from({ length: 20 }, (_, i) => ({
          name: "art_daily_jumpsdown",
          ts: new Date(last + (i + 1) * 5 * minute).toISOString(),
          value: 8,
        })),
      );
      await t.drain();
      const after = await cards("metric:art_daily_jumpsdown");
      expect(after).toHaveLength(1);
      expect(after[0]?.status).toBe("rejected");
    });

    it("lists the metric names a source has sent, for choosing an action by name (admins only)", async () => {
      const names = async (source: Source, cookie = admin) =>
        t.request<{ names: string[] }>(`/api/sources/${source.id}/metrics`, { cookie });
      // A metrics source of its own: the others in this file have sent many names already.
      // checkout_success mapped to an action, as Settings' hints need.
      const fresh = await t.createSource(
        admin,
        "metrics",
        { actions: { checkout_success: "issue" } },
        "Fresh metrics",
      );
      expect((await names(fresh)).body).toEqual({ names: [], complete: true, perReplica: {} });
      const ts = "2014-04-15T00:00:00Z";
      await points(fresh, [
        { name: "intake_depth", labels: { zone: "a" }, ts, value: 1 },
        { name: "intake_depth", labels: { zone: "b" }, ts, value: 2 },
        { name: "checkout_success", ts, value: 98 },
      ]);
      await t.drain();
      expect((await names(fresh)).body).toEqual({
        names: ["checkout_success", "intake_depth"],
        complete: true,
        perReplica: {},
      });
      // The mapped metric comes one series per pod: Settings says so beside its action.
      await points(fresh, [
        {
          name: "checkout_success",
          labels: { pod: "shop-7d9f-a", instance: "10.0.0.7:9090" },
          ts,
          value: 97,
        },
        { name: "intake_depth", labels: { pod: "shop-7d9f-a" }, ts, value: 3 },
      ]);
      await t.drain();
      expect((await names(fresh)).body).toMatchObject({
        perReplica: { checkout_success: ["pod", "instance"] },
      });
      // Another source's names are its own.
      expect((await names(metrics)).body.names).not.toContain("intake_depth");
      // Past 500 names the first ones are kept, and the list says it is not all of them.
      await points(
        fresh,
        Array.from({ length: 500 }, (_, i) => ({
          name: `extra_${String(i).padStart(3, "0")}`,
          ts,
          value: i,
        })),
      );
      await t.drain();
      const many = (await names(fresh)).body as { names: string[]; complete: boolean };
      expect(many.names).toHaveLength(500);
      expect(many.complete).toBe(false);
      expect(many.names).toContain("checkout_success");
      expect(many.names).not.toContain("extra_499");
      const reviewer = await t.addUser(admin, "reviewer", "rita-names@example.com");
      expect((await names(fresh, reviewer)).status).toBe(403);
      expect((await names({ ...fresh, id: "src_missing" })).status).toBe(404);
    });
  });

  describe("error groups", () => {
    const event = (overrides: Json = {}) => ({
      ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
      timestamp: new Date(t.clock.now().getTime()).toISOString(),
      ...overrides,
    });

    it("opens a card for a new group with the top frame, users and release, proposing an issue", async () => {
      t.clock.advance(-3 * 60 * minute);
      await sentryEvent(event({ release: "shop@1.0.0", user: { id: "u1" } }));
      await sentryEvent(event({ release: "shop@1.0.0", user: { id: "u2" } }));
      t.clock.advance(3 * 60 * minute);
      await t.drain();
      const found = await cards("sentry:");
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      expect(card.title).toMatch(/^New error: /);
      const facts = (card.evidence as { facts: Json; count: number }).facts;
      expect(facts).toMatchObject({ events: 2, users: 2, release: "shop@1.0.0" });
      // The chart: six hours of 10-minute buckets, empty ones at 0, the two events in the last.
      const chart = card.preview as { points: [number, number][] };
      expect(chart.points).toHaveLength(36);
      expect(chart.points.map(([, n]) => n)).toEqual([...Array(35).fill(0), 2]);
      expect(typeof facts.topFrame).toBe("string");
      expect(card.change).toMatchObject({
        type: "github",
        operation: "create_issue",
        repository: "acme/shop",
      });
      expect(((card.change as { params: Json }).params.body as string).includes("```")).toBe(true);
    });

    it("a new group's card stays news of a new error as its events come in later batches", async () => {
      // A live worker reads Sentry's events as they arrive: the second event, a batch later, must
      // not turn "New error: …" into the bare message.
      const own = (user: string) => event({ fingerprint: ["headline-kept"], user: { id: user } });
      const before = new Set((await cards("sentry:")).map((c) => c.id));
      await sentryEvent(own("h1"));
      await t.drain();
      t.clock.advance(minute);
      await sentryEvent(own("h2"));
      await t.drain();
      const mine = (await cards("sentry:")).filter((c) => !before.has(c.id));
      expect(mine.map((c) => c.title)).toEqual([expect.stringMatching(/^New error: Exception: /)]);
      expect((mine[0]?.evidence as { facts?: Json } | undefined)?.facts).toMatchObject({
        events: 2,
        users: 2,
      });
      // Out of the way of the tests below, which count this file's error cards.
      await t.database.db.delete(schema.cards).where(eq(schema.cards.id, mine[0]?.id ?? ""));
    });

    it("a spike's card keeps marking and ranking the spike as events come, and says when it is over", async () => {
      const own = (user: string) => event({ fingerprint: ["spike-over"], user: { id: user } });
      const before = new Set((await cards("sentry:")).map((c) => c.id));
      const mine = async () => {
        const found = (await cards("sentry:")).filter((c) => !before.has(c.id));
        expect(found).toHaveLength(1);
        return found[0] as typeof schema.cards.$inferSelect;
      };
      const marked = (c: typeof schema.cards.$inferSelect) => {
        const chart = c.preview as { points: [number, number][]; marks?: number[] };
        return (chart.marks ?? []).map((m) => chart.points[m]?.[1]);
      };
      // Two hours of an event every 20 minutes, then twelve at once.
      t.clock.advance(-2 * 60 * minute);
      for (let k = 0; k < 6; k++) {
        await sentryEvent(own(`a${k}`));
        t.clock.advance(20 * minute);
      }
      await t.drain();
      const burstAt = t.clock.now().getTime();
      for (let k = 0; k < 12; k++) await sentryEvent(own(`b${k}`));
      await t.drain();
      const spike = await mine();
      expect(spike.title).toMatch(/^Spiking: .* — 12 in 10 min \(×\d+ the usual\)$/);
      expect(marked(spike)).toEqual([12]);
      // One more event ten minutes on: still the spike's card, marked and ranked as one.
      t.clock.advance(10 * minute);
      await sentryEvent(own("c"));
      await t.drain();
      const later = await mine();
      expect(later.title).toBe(spike.title);
      expect(marked(later)).toEqual([12]);
      expect(later.priority).toBeCloseTo(spike.priority, 2);
      // Forty minutes with nothing: the clock tells the card the spike is over, and it ranks lower.
      t.clock.advance(40 * minute);
      await t.tick();
      const over = await mine();
      const end = new Date(Math.floor(burstAt / (10 * minute)) * 10 * minute + 10 * minute);
      expect(over.title).toBe(`${spike.title}, over since ${end.toISOString().slice(11, 16)} UTC`);
      expect(over.priority).toBeLessThan(later.priority);
      expect(marked(over)).toEqual([12]);
      // Its chart runs on to now, the quiet buckets at 0.
      const points = (over.preview as { points: [number, number][] }).points;
      expect(points.at(-1)).toEqual([Math.floor(t.clock.now().getTime() / (10 * minute)) * 10 * minute, 0]);
      // A lone event after it: still over.
      t.clock.advance(minute);
      await sentryEvent(own("d"));
      await t.drain();
      expect((await mine()).title).toBe(over.title);
      // A new burst is a spike again.
      t.clock.advance(10 * minute);
      for (let k = 0; k < 12; k++) await sentryEvent(own(`e${k}`));
      await t.drain();
      const again = await mine();
      expect(again.title).toMatch(/^Spiking: .* — 12 in 10 min \(×\d+ the usual\)$/);
      expect(again.priority).toBeGreaterThan(over.priority);
      // Out of the way of the tests below, which count this file's error cards.
      await t.database.db.delete(schema.cards).where(eq(schema.cards.id, again.id));
    });

    it("turns a burst into a spike on the same card, and steady repeats into nothing new", async () => {
      for (let i = 0; i < 12; i++) await sentryEvent(event({ release: "shop@1.0.0", user: { id: `s${i}` } }));
      await t.drain();
      const found = await cards("sentry:");
      expect(found).toHaveLength(1);
      expect(found[0]?.title).toMatch(/^Spiking: .* — 12 in 10 min/);
      // The spike's bucket is marked on the chart.
      const chart = found[0]?.preview as { points: [number, number][]; marks: number[] };
      expect(chart.points[chart.marks[0] as number]?.[1]).toBe(12);
      expect(found[0]?.version).toBe(2);
    });

    it("opens a regression card when the group returns in a new release after its issue was closed", async () => {
      const [card] = await cards("sentry:");
      if (!card) throw new Error("no card");
      await decide(card, "accept");
      // Flick opens the issue (#12 on the local GitHub); its body names the group.
      await carryOut();
      const opened = githubApi.requests.find(
        (r) => r.method === "POST" && r.path === "/repos/acme/shop/issues",
      );
      const issueBody = (JSON.parse(opened?.body ?? "{}") as { body: string }).body;
      expect(issueBody).toContain(`Flick error group: \`${card.fingerprint}\``);
      // The issue Flick opened, as GitHub's "issues" webhook sends it (fixture: number, body, state,
      // state_reason and closed_at changed).
      const issueEvent = (action: string, stateReason: string | null) => {
        const payload = ghFixture("issues/opened.payload.json") as Json & { issue: Json; repository: Json };
        return github("issues", {
          ...payload,
          action,
          issue: {
            ...payload.issue,
            number: 12,
            body: issueBody,
            state: action === "closed" ? "closed" : "open",
            state_reason: stateReason,
            closed_at: action === "closed" ? t.clock.now().toISOString() : null,
          },
          repository: { ...payload.repository, full_name: "acme/shop" },
        });
      };

      // Accepting opened an issue; it is not the fix: a new release still has the error, no card.
      t.clock.advance(60 * minute);
      await sentryEvent(event({ release: "shop@1.1.0", user: { id: "still" } }));
      await t.drain();
      expect(await cards("sentry:")).toHaveLength(1);
      // Closed as not planned fixes nothing either.
      await issueEvent("closed", "not_planned");
      t.clock.advance(minute);
      await sentryEvent(event({ release: "shop@1.1.1", user: { id: "still" } }));
      await t.drain();
      expect(await cards("sentry:")).toHaveLength(1);

      // Reopened, then closed as completed: the fix is in. Releases seen until then stay quiet…
      await issueEvent("reopened", null);
      t.clock.advance(minute);
      await issueEvent("closed", "completed");
      await t.drain();
      t.clock.advance(60 * minute);
      await sentryEvent(event({ release: "shop@1.1.0", user: { id: "old" } }));
      await t.drain();
      expect(await cards("sentry:")).toHaveLength(1);
      // …a release after the fix with the same error is a regression: reopen the issue.
      await sentryEvent(event({ release: "shop@1.2.0", user: { id: "new" } }));
      await t.drain();
      const after = await cards("sentry:");
      expect(after).toHaveLength(2);
      const back = after[1] as typeof schema.cards.$inferSelect;
      expect(back.title).toMatch(/^Regression: .* — back in shop@1\.2\.0$/);
      expect(back.status).toBe("pending");
      expect(back.summary).toContain("It came back in shop@1.2.0 after acme/shop#12 was closed on ");
      expect(back.summary).toContain("Accept reopens acme/shop#12 with the new stack trace.");
      expect(back.change).toMatchObject({
        type: "github",
        operation: "reopen_issue",
        repository: "acme/shop",
        params: { number: 12 },
      });
      // The team accepted this agent's one earlier card: (1 + 1) / (1 + 0 + 2).
      expect(back.priorityFactors.acceptRate).toBeCloseTo(0.667, 3);
      expect(after[0]?.priorityFactors.acceptRate).toBe(0.5);
      // Beside it, how many decisions the rate rests on: none for the first card, one for this one.
      expect(back.priorityFactors.acceptRateDecisions).toBe(1);
      expect(after[0]?.priorityFactors.acceptRateDecisions).toBe(0);
      // Its next event changes nothing of what it is news of: still a regression, ranked as one…
      t.clock.advance(minute);
      await sentryEvent(event({ release: "shop@1.2.0", user: { id: "newer" } }));
      await t.drain();
      const [, next] = await cards("sentry:");
      expect(next?.title).toBe(back.title);
      expect(next?.priorityFactors.severity).toBe(0.8);
      // …and still proposes to reopen the issue that fixed it, saying why.
      expect(next?.change).toMatchObject({ operation: "reopen_issue", params: { number: 12 } });
      expect(next?.summary).toContain("It came back in shop@1.2.0 after acme/shop#12 was closed on ");
      expect(next?.priority).toBeGreaterThanOrEqual(back.priority - 0.01);
      const latestBack = next as typeof schema.cards.$inferSelect;

      // Accepting it reopens #12 and says why in a comment with the stack trace.
      await decide(latestBack, "accept");
      await carryOut();
      const reopened = githubApi.requests.find((r) => r.method === "PATCH");
      expect(reopened?.path).toBe("/repos/acme/shop/issues/12");
      expect(JSON.parse(reopened?.body ?? "{}")).toEqual({ state: "open" });
      const comment = githubApi.requests.find((r) => r.path === "/repos/acme/shop/issues/12/comments");
      expect((JSON.parse(comment?.body ?? "{}") as { body: string }).body).toMatch(
        /^Back in release shop@1\.2\.0: \d+ events from \d+ users in all; the latest:\n\n```\n/,
      );

      // Fixed again; then a push and, minutes later, the error in the next release: the push
      // brought it back, so the card is the push's rollback card, not another regression card.
      await issueEvent("closed", "completed");
      await t.drain();
      t.clock.advance(60 * minute);
      await deploy("4", "5");
      await t.drain();
      t.clock.advance(2 * minute);
      await sentryEvent(event({ release: "shop@1.3.0", user: { id: "again" } }));
      await t.drain();
      const [rollback] = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("5".repeat(40)));
      expect(rollback?.title).toMatch(
        /^Fixed \w+ back ×\d+ \(\d+ users\) \d+ min after push 5555555.* — roll back\?$/,
      );
      expect(await cards("sentry:")).toHaveLength(2);
      t.clock.advance(60 * minute);
    });
  });

  describe("error groups from Sentry's integration webhooks", () => {
    const hook = sentryHook;
    // Sentry's documented bodies (the fixtures); where a case needs it, the test says which field
    // it changes.
    const issue = (action: string, patch: Json = {}) => {
      const p = JSON.parse(fixture("sentry/webhooks/issue.created.json")) as Json & { data: { issue: Json } };
      return { ...p, action, data: { issue: { ...p.data.issue, ...patch } } };
    };
    const error = (patch: Json) => {
      const p = JSON.parse(fixture("sentry/webhooks/error.created.json")) as Json & { data: { error: Json } };
      // Each event its own id, as Sentry sends them, happening now.
      const now = { event_id: randomUUID().replace(/-/g, ""), datetime: t.clock.now().toISOString() };
      return { ...p, data: { error: { ...p.data.error, ...now, ...patch } } };
    };
    const group = () => cards("sentry:issue:1170820242");
    const facts = (card: unknown) => (card as { evidence: { facts: Json } }).evidence.facts;

    it("a new Sentry issue is a card; its events join it, the announced one counted once", async () => {
      const page = "https://sentry.io/organizations/acme/issues/1170820242/";
      await hook("issue", issue("created", { permalink: page }));
      await t.drain();
      const [card] = await group();
      if (!card) throw new Error("no card for the new Sentry issue");
      expect(card.title).toBe("New error: ReferenceError: blooopy is not defined");
      expect(facts(card).events).toBe(1);
      // First seen when Sentry first saw it, not when the webhook came.
      expect(facts(card).firstSeen).toBe("2019-08-19T20:58:37.391Z");
      // One of each, said as one; the frame has no function name, so it is its place.
      expect(card.summary).toMatch(/^1 event, 1 user, first seen 2019-08-19 20:58 UTC\./);
      expect((card.evidence as { links: unknown[] }).links).toEqual([{ label: "In Sentry", url: page }]);
      // The event the issue announced (its user is an IP address), then another user's.
      await hook("error", error({ release: "front@1.0.0" }));
      await hook("error", error({ release: "front@1.0.0", user: { id: "u2" } }));
      await t.drain();
      const found = await group();
      expect(found).toHaveLength(1);
      expect(facts(found[0])).toMatchObject({ events: 2, users: 2, release: "front@1.0.0" });
    });

    it("an alert rule's event is the issue's event too, counted once when the error webhook sent it as well", async () => {
      // The documented body, its event happening now.
      const triggered = JSON.parse(fixture("sentry/webhooks/event_alert.triggered.json")) as Json & {
        data: { event: Json };
      };
      await hook("event_alert", {
        ...triggered,
        data: {
          ...triggered.data,
          event: { ...triggered.data.event, datetime: t.clock.now().toISOString() },
        },
      });
      await t.drain();
      const alerted = () => cards("sentry:issue:1117540176");
      const [card] = await alerted();
      expect(card?.title).toBe("New error: ReferenceError: heck is not defined");
      expect(card?.summary).toContain(`Sentry's alert rule "Very Important Alert Rule!" fired for it.`);
      expect(facts(card).events).toBe(1);
      // The same event through the "error" webhook (the error fixture, moved to that issue and
      // event), then another event.
      const same = { issue_id: "1117540176", event_id: "e4874d664c3540c1a32eab185f12c5ab" };
      await hook("error", error(same));
      await t.drain();
      expect(facts((await alerted())[0]).events).toBe(1);
      await hook("error", error({ ...same, event_id: "f".repeat(32) }));
      await t.drain();
      expect(facts((await alerted())[0]).events).toBe(2);
    });

    it("with issue webhooks only: new, resolved, then regressed as Sentry says", async () => {
      // Another issue (the fixture with id 999): Sentry sends no events for it, only the issue.
      const only = (action: string, patch: Json = {}) => issue(action, { id: "999", ...patch });
      await hook("issue", only("created"));
      await t.drain();
      const mine = () => cards("sentry:issue:999");
      expect((await mine())[0]?.title).toBe("New error: ReferenceError: blooopy is not defined");
      await hook("issue", only("resolved", { status: "resolved" }));
      await t.drain();
      expect((await mine())[0]?.status).toBe("expired");
      t.clock.advance(60 * minute);
      await hook("issue", only("unresolved", { status: "unresolved", substatus: "regressed" }));
      await t.drain();
      const [, back] = await mine();
      expect(back?.title).toBe(
        "Regression: ReferenceError: blooopy is not defined — Sentry marked it regressed",
      );
      expect(back?.summary).toMatch(
        /^1 event, 1 user, .* It came back \(Sentry marked it regressed\) after it was resolved in Sentry on ([A-Z][a-z]{2} \d{1,2}|\d{4}-\d\d-\d\d)\./,
      );
      // A person unresolving it by hand is no regression.
      await hook("issue", only("unresolved", { status: "unresolved", substatus: "ongoing" }));
      await t.drain();
      expect(await mine()).toHaveLength(2);
    });

    it("archived in Sentry: the card goes, its events stay quiet until Sentry says it escalated; assigned: no nagging", async () => {
      // Another issue (the fixture with id 777), its events the error fixture moved to it.
      const mine = (action: string, patch: Json = {}) => issue(action, { id: "777", ...patch });
      const burst = async (tag: string) => {
        for (let i = 0; i < 12; i++)
          await hook("error", error({ issue_id: "777", release: "front@1.0.0", user: { id: `${tag}${i}` } }));
        await t.drain();
      };
      const seen = () => cards("sentry:issue:777");
      await hook("issue", mine("created"));
      await t.drain();
      expect((await seen())[0]?.status).toBe("pending");
      await hook("issue", mine("archived", { status: "ignored", substatus: "archived_until_escalating" }));
      await t.drain();
      expect((await seen())[0]?.status).toBe("expired");
      // A burst that would be a spike makes no card while it is archived.
      t.clock.advance(60 * minute);
      await burst("a");
      expect(await seen()).toHaveLength(1);
      // Sentry: it escalated. That is a card, with everything counted meanwhile.
      await hook("issue", mine("unresolved", { status: "unresolved", substatus: "escalating" }));
      await t.drain();
      const [, escalating] = await seen();
      expect(escalating?.title).toBe(
        "Escalating: ReferenceError: blooopy is not defined — archived in Sentry until it escalated",
      );
      expect(escalating?.status).toBe("pending");
      expect(facts(escalating)).toMatchObject({ events: 12, users: 12 });
      expect(escalating?.summary).toContain("Sentry archived it until it escalated, and now it has.");
      // Its next event: still the escalation's card, saying so.
      t.clock.advance(minute);
      await hook("error", error({ issue_id: "777", release: "front@1.0.0", user: { id: "next" } }));
      await t.drain();
      const [, still] = await seen();
      expect(still?.title).toBe(escalating?.title);
      expect(facts(still)).toMatchObject({ events: 13 });
      expect(still?.summary).toContain("Sentry archived it until it escalated, and now it has.");

      // Assigned in Sentry: someone owns it, the card goes; a later spike is still news, and says who.
      await hook("issue", mine("assigned", { assignedTo: { type: "user", id: "1", name: "Jane Doe" } }));
      await t.drain();
      expect((await seen())[1]?.status).toBe("expired");
      t.clock.advance(60 * minute);
      await burst("b");
      const [, , spike] = await seen();
      expect(spike?.title).toMatch(/^Spiking: ReferenceError: blooopy is not defined — 12 in 10 min/);
      expect(spike?.summary).toContain("Assigned to Jane Doe in Sentry.");
      // A new issue already assigned when Flick first hears of it is no "new error" card.
      await hook("issue", issue("assigned", { id: "778", assignedTo: { type: "team", name: "payments" } }));
      await hook("issue", issue("created", { id: "778" }));
      await t.drain();
      expect(await cards("sentry:issue:778")).toHaveLength(0);
    });

    it("a rejected error stays quiet as its events come, but a spike is a card again, saying why", async () => {
      // Another issue (id 991), its events the error fixture moved to it.
      await hook("issue", issue("created", { id: "991" }));
      await t.drain();
      const seen = () => cards("sentry:issue:991");
      const events = async (n: number, tag: string) => {
        for (let i = 0; i < n; i++)
          await hook("error", error({ issue_id: "991", release: "front@1.0.0", user: { id: `${tag}${i}` } }));
        await t.drain();
      };
      const [card] = await seen();
      expect(card?.title).toMatch(/^New error: /);
      await decide(card as { id: string; version: number }, "reject");
      t.clock.advance(60 * minute);
      await events(3, "a");
      expect((await seen()).map((c) => c.status)).toEqual(["rejected"]);
      // Twelve in ten minutes: a spike is not what was rejected.
      t.clock.advance(60 * minute);
      await events(12, "b");
      const [, spike] = await seen();
      expect(spike?.status).toBe("pending");
      expect(spike?.title).toMatch(/^Spiking: .* — 12 in 10 min/);
      expect(spike?.summary).toContain(
        "Its card was rejected as a new error; now it spikes, 12 in 10 min, so it is here despite the mute.",
      );
      // That rejected too, a spike of about the same size is the same proposal: quiet.
      await decide(spike as { id: string; version: number }, "reject");
      t.clock.advance(60 * minute);
      await events(14, "c");
      expect((await seen()).map((c) => c.status)).toEqual(["rejected", "rejected"]);
    });

    it("a fix Sentry's Seer opened is the error's card once it is ready to merge; closed unmerged, the error is back", async () => {
      // Another issue (id 555); Seer's fix is Codertocat/Hello-World#31 (the pull request, check and
      // review fixtures moved to that number and head), approved and green.
      await hook("issue", issue("created", { id: "555" }));
      await t.drain();
      const errorCard = async () => (await cards("sentry:issue:555"))[0];
      expect((await errorCard())?.status).toBe("pending");
      const sha = "31".repeat(20);
      const opened = ghFixture("pull_request/opened.payload.json");
      const pull = (patch: Json = {}) => ({
        ...opened,
        pull_request: {
          ...(opened.pull_request as Json),
          number: 31,
          title: "Define blooopy before the runner uses it",
          head: { ...((opened.pull_request as Json).head as Json), sha },
          ...patch,
        },
      });
      const green = ghFixture("check_run/completed.payload.json");
      const run = green.check_run as Json;
      const approved = ghFixture("pull_request_review/submitted.payload.json");
      await github("pull_request", pull());
      await github("check_run", {
        ...green,
        check_run: {
          ...run,
          conclusion: "success",
          head_sha: sha,
          pull_requests: [{ ...(run.pull_requests as Json[])[0], number: 31 }],
        },
      });
      await github("pull_request_review", {
        ...approved,
        pull_request: pull().pull_request,
        review: { ...(approved.review as Json), state: "approved", user: { login: "octocat" } },
      });
      await t.drain();
      const merge = async () => (await cards("github:pr:Codertocat/Hello-World#31"))[0];
      expect((await merge())?.title).toBe("Merge #31: Define blooopy before the runner uses it");
      // Then Seer says it opened that pull request for the issue (its documented body, moved there).
      const seer = JSON.parse(fixture("sentry/webhooks/seer.pr_created.json")) as Json & { data: Json };
      const prs = seer.data.pull_requests as Json[];
      await hook("seer", {
        ...seer,
        data: {
          ...seer.data,
          group_id: 555,
          pull_requests: [
            {
              ...prs[0],
              pull_request: {
                ...((prs[0] as Json).pull_request as Json),
                pr_number: 31,
                pr_url: "https://github.com/Codertocat/Hello-World/pull/31",
              },
            },
          ],
        },
      });
      await t.drain();
      const fix = await merge();
      expect(fix?.title).toBe(
        `Merge #31: Define blooopy before the runner uses it — Seer's fix for "ReferenceError: blooopy is not defined"`,
      );
      expect(fix?.summary).toContain(
        'Sentry\'s Seer opened it to fix "ReferenceError: blooopy is not defined" (1 event, 1 user)',
      );
      expect(fix?.priorityFactors.severity).toBe(0.6);
      // One card: the error's waits behind the fix.
      expect((await errorCard())?.status).toBe("snoozed");
      // More events of it meanwhile (the announced one, then another) are counted on the error's
      // card, which stays behind the fix.
      await hook("error", error({ issue_id: "555", user: { id: "u555" } }));
      await hook("error", error({ issue_id: "555", user: { id: "u556" } }));
      await t.drain();
      expect((await errorCard())?.status).toBe("snoozed");
      expect(facts(await errorCard()).events).toBe(2);
      expect((await errorCard())?.evidence).toMatchObject({ setAside: true, standIn: fix?.id });
      // Closed without merging: the error is its own card again.
      await github("pull_request", { ...pull({ state: "closed", merged: false }), action: "closed" });
      await t.drain();
      expect((await merge())?.status).toBe("expired");
      expect((await errorCard())?.status).toBe("pending");
    });

    it("Seer's root cause is told on the error's card and in the issue it proposes", async () => {
      await hook("issue", issue("created", { id: "556" }));
      await t.drain();
      const errorCard = async () => (await cards("sentry:issue:556"))[0];
      const before = await errorCard();
      expect(before?.summary).not.toContain("root cause");
      // Seer's documented root_cause_completed body, for this issue.
      const seer = JSON.parse(fixture("sentry/webhooks/seer.root_cause_completed.json")) as Json & {
        data: Json;
      };
      await hook("seer", { ...seer, data: { ...seer.data, group_id: 556 } });
      await t.drain();
      const card = await errorCard();
      expect(await cards("sentry:issue:556")).toHaveLength(1);
      expect(card?.id).toBe(before?.id);
      expect(card?.summary).toContain(
        "Seer's root cause: Woah wow there's a bug here. Key step: Next.js server renders the /dashboard route (src/app/page.ts in owner/repo).",
      );
      const body = String((card?.change as { params?: { body?: string } } | null)?.params?.body ?? "");
      expect(body).toContain("## Root cause (Sentry's Seer)\n\nWoah wow there's a bug here.");
      expect(body).toContain(
        "1. User navigates to the dashboard page, initiating page load.\n2. **Next.js server renders the /dashboard route.** — src/app/page.ts in owner/repo",
      );
      // Later events keep telling it.
      await hook("error", error({ issue_id: "556" }));
      await t.drain();
      expect((await errorCard())?.summary).toContain("Seer's root cause: Woah wow there's a bug here.");
      // Heard of in the same batch as the issue itself: its first card tells it already.
      await hook("issue", issue("created", { id: "558" }));
      await hook("seer", { ...seer, data: { ...seer.data, group_id: 558 } });
      await t.drain();
      expect((await cards("sentry:issue:558"))[0]?.summary).toContain("Seer's root cause: Woah wow");
      // A root cause for an issue Flick never heard of makes no card; it waits for the issue's
      // first event, whose card tells it (and so does the issue it proposes).
      await hook("seer", { ...seer, data: { ...seer.data, group_id: 557 } });
      await t.drain();
      expect(await cards("sentry:issue:557")).toHaveLength(0);
      await hook("issue", issue("created", { id: "557" }));
      await t.drain();
      const late = await cards("sentry:issue:557");
      expect(late).toHaveLength(1);
      expect(late[0]?.summary).toContain("Seer's root cause: Woah wow there's a bug here.");
      expect(JSON.stringify(late[0]?.change)).toContain("## Root cause (Sentry's Seer)");
    });

    it("a comment on the issue in Sentry is on the error's card; deleted, it goes", async () => {
      await hook("issue", issue("created", { id: "560" }));
      await t.drain();
      const errorCard = async () => (await cards("sentry:issue:560"))[0];
      // Sentry's documented comment body, on this issue.
      const comment = JSON.parse(fixture("sentry/webhooks/comment.created.json")) as Json & { data: Json };
      await hook("comment", { ...comment, data: { ...comment.data, issue_id: 560 } });
      await t.drain();
      expect(await cards("sentry:issue:560")).toHaveLength(1);
      expect((await errorCard())?.summary).toContain("colleen commented in Sentry: “adding a comment”.");
      await hook("comment", {
        ...comment,
        action: "updated",
        data: { ...comment.data, issue_id: 560, comment: "it is the   cache,\nrolling back" },
      });
      await t.drain();
      expect((await errorCard())?.summary).toContain(
        "colleen commented in Sentry: “it is the cache, rolling back”.",
      );
      await hook("comment", { ...comment, action: "deleted", data: { ...comment.data, issue_id: 560 } });
      await t.drain();
      expect((await errorCard())?.summary).not.toContain("commented");
      expect((await errorCard())?.status).toBe("pending");
    });

    it("resolved in Sentry takes the card back; back in a new release, it is a regression", async () => {
      await hook("issue", issue("resolved", { status: "resolved", statusDetails: { inNextRelease: true } }));
      await t.drain();
      expect((await group())[0]?.status).toBe("expired");
      t.clock.advance(60 * minute);
      await hook("error", error({ release: "front@1.0.0", user: { id: "u3" } }));
      await t.drain();
      expect(await group()).toHaveLength(1);
      await hook("error", error({ release: "front@1.1.0", user: { id: "u4" } }));
      await t.drain();
      const after = await group();
      expect(after).toHaveLength(2);
      expect(after[1]?.title).toBe(
        "Regression: ReferenceError: blooopy is not defined — back in front@1.1.0",
      );
      expect(after[1]?.summary).toContain("It came back in front@1.1.0 after it was resolved in Sentry on ");
      expect(after[1]?.status).toBe("pending");

      // Its issue, opened from this card and closed on GitHub (the issues fixture, given the body
      // Flick writes and number 13), is the next fix: the error in the release after it says so.
      const change = after[1]?.change as { params: { body: string } } | undefined;
      const body = change?.params.body ?? "";
      expect(body).toContain("Flick error group: `sentry:issue:1170820242`");
      const closed = ghFixture("issues/opened.payload.json") as Json & { issue: Json; repository: Json };
      await github("issues", {
        ...closed,
        action: "closed",
        issue: { ...closed.issue, number: 13, body, state: "closed", state_reason: "completed" },
        repository: { ...closed.repository, full_name: "acme/shop" },
      });
      await t.drain();
      t.clock.advance(60 * minute);
      await hook("error", error({ release: "front@1.2.0", user: { id: "u5" } }));
      await t.drain();
      // The regression card was still open, so it is the one that says so.
      const latest = await group();
      expect(latest).toHaveLength(2);
      expect(latest[1]?.title).toMatch(/— back in front@1\.2\.0$/);
      expect(latest[1]?.summary).toContain("after acme/shop#13 was closed on ");
    });
  });

  describe("Alertmanager alerts", () => {
    it("joins every notification of one alert on one card; resolved drops it down the feed", async () => {
      const alerts = await t.createSource(admin, "alertmanager");
      const body = JSON.parse(fixture("alertmanager/prometheus-msteams__prom_post_request.json")) as Json & {
        alerts: Json[];
      };
      const send = (status: string) =>
        t.request(`/ingest/${alerts.id}`, {
          json: {
            ...body,
            status,
            alerts: body.alerts.map((a) => ({
              ...a,
              status,
              endsAt: new Date(t.clock.now().getTime() + 60_000).toISOString(),
            })),
          },
          origin: null,
          headers: { authorization: `Bearer ${alerts.secret}` },
        });
      expect((await send("firing")).status).toBe(202);
      await t.drain();
      const [firing] = await cards("alert:");
      expect(firing?.title).toBe(
        "Firing: high_memory_load on instance-with-hyphen_and_underscore — Server High Memory usage",
      );
      // Every label is still there to read: the preview lists them, the summary gives the scope.
      expect((firing?.preview as { text: string } | null)?.text).toContain("job: docker_nodes");
      expect(firing?.summary).toContain(
        "Scope: instance=instance-with-hyphen_and_underscore, job=docker_nodes",
      );
      expect((await send("resolved")).status).toBe(202);
      await t.drain();
      const found = await cards("alert:");
      expect(found).toHaveLength(1);
      expect(found[0]?.title).toMatch(/^Resolved: high_memory_load/);
      expect(found[0]?.priority).toBeLessThan(firing?.priority ?? 0);
      expect((found[0]?.evidence as { count: number } | undefined)?.count).toBe(2);
    });

    it("makes a Sentry metric alert one card per incident, critical then resolved", async () => {
      // Sentry's documented "resolved" body; the critical one is the same incident with the action
      // and title Sentry gives it then.
      const resolved = JSON.parse(fixture("sentry/webhooks/metric_alert.resolved.json")) as Json & {
        data: Json;
      };
      await sentryHook("metric_alert", {
        ...resolved,
        action: "critical",
        data: { ...resolved.data, description_title: "Critical: Too many errors" },
      });
      await t.drain();
      const title = "Firing: Too many errors on bar — 1000 events in the last 10 minutes";
      const found = (await cards("alert:group:")).filter((c) => c.title === title);
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      expect(card.summary).toContain("Filter: level:error");
      expect(card.priorityFactors.severity).toBe(1);
      expect((card.evidence as { links: unknown[] }).links).toEqual([
        { label: "Source", url: "https://sentry.io/organizations/baz/alerts/1/" },
      ]);
      await sentryHook("metric_alert", resolved);
      await t.drain();
      const [after] = (await cards("alert:group:")).filter((c) => c.id === card.id);
      expect(after?.title).toBe("Resolved: Too many errors on bar — 1000 events in the last 10 minutes");
      expect(after?.priority).toBeLessThan(card.priority);
      // Another incident Flick first hears of as resolved (the body with identifier 2) is no card.
      const metricAlert = (resolved.data as { metric_alert: Json }).metric_alert;
      await sentryHook("metric_alert", {
        ...resolved,
        data: { ...resolved.data, metric_alert: { ...metricAlert, identifier: "2" } },
      });
      await t.drain();
      const titled = (await cards("alert:group:")).filter((c) => c.title === after?.title);
      expect(titled).toHaveLength(1);
    });

    it("makes one card of an Alertmanager group: three instances firing together are one incident", async () => {
      const alerts = await t.createSource(admin, "alertmanager");
      const body = JSON.parse(
        fixture("alertmanager/prometheus-msteams__card-grafana-inspired-payload.json"),
      ) as Json & { alerts: Json[] };
      const group = async () => (await cards("alert:")).filter((c) => c.title.includes("JustATestAlert_1"));
      const send = (statuses: string[]) =>
        t.request(`/ingest/${alerts.id}`, {
          json: {
            ...body,
            status: statuses.includes("firing") ? "firing" : "resolved",
            alerts: body.alerts.map((a, i) => ({
              ...a,
              status: statuses[i],
              endsAt: new Date(t.clock.now().getTime() + 60_000).toISOString(),
            })),
          },
          origin: null,
          headers: { authorization: `Bearer ${alerts.secret}` },
        });
      expect((await send(["firing", "firing", "firing"])).status).toBe(202);
      await t.drain();
      const [card, ...more] = await group();
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card for the group");
      expect(card?.title).toMatch(
        /^Firing: JustATestAlert_1 ×3 \(name=grafana, nginx, prometheus\) on \S+ — /,
      );
      // The description's "\n" written out (single-quoted YAML) is a line break, not a backslash.
      expect(card.summary).toMatch(/^Lorem ipsum [^\\]*dolores et ea\.\n\nScope: /);
      // The preview lists each instance on its own line.
      expect((card.preview as { text: string }).text.split("\n")).toEqual(
        expect.arrayContaining(["name: grafana", "name: nginx", "name: prometheus"]),
      );

      // One of them (grafana, the first) resolves: the card says two are firing and one resolved.
      t.clock.advance(5 * minute);
      expect((await send(["resolved", "firing", "firing"])).status).toBe(202);
      await t.drain();
      const [partly] = await group();
      expect(partly?.title).toMatch(/^Firing: JustATestAlert_1 ×2 \(name=nginx, prometheus\)/);
      expect(partly?.summary).toContain("1 of the 3 alerts in this group resolved since.");

      // All resolved: the same card says so and drops down the feed.
      t.clock.advance(5 * minute);
      expect((await send(["resolved", "resolved", "resolved"])).status).toBe(202);
      await t.drain();
      const after = await group();
      expect(after).toHaveLength(1);
      expect(after[0]?.title).toMatch(/^Resolved: JustATestAlert_1 ×3/);
      expect(after[0]?.priority).toBeLessThan(partly?.priority ?? 0);
    });

    it("takes back the cards an older Flick made per alert once their group's card is made", async () => {
      const source = await t.createSource(admin, "alertmanager");
      // The grafana-inspired notification under another group key (a group not seen yet here).
      const body = JSON.parse(
        fixture("alertmanager/prometheus-msteams__card-grafana-inspired-payload.json"),
      ) as Json & { alerts: Json[] };
      const old = await Promise.all(
        body.alerts.map((a) =>
          insertCard(t.database.db, {
            agent: "alerts",
            kind: "insight",
            fingerprint: `alert:${a.fingerprint}`,
            title: `Firing: JustATestAlert_1 (an old card for ${a.fingerprint})`,
          }),
        ),
      );
      const res = await t.request(`/ingest/${source.id}`, {
        json: { ...body, groupKey: `${body.groupKey as string}:upgrade` },
        origin: null,
        headers: { authorization: `Bearer ${source.secret}` },
      });
      expect(res.status, res.text).toBe(202);
      await t.drain();
      for (const card of old) {
        const [now] = await cards(card.fingerprint);
        expect(now?.status).toBe("expired");
      }
    });

    it("an Alertmanager alert whose rule reads the series joins its card: one card, the alert's set aside", async () => {
      const alerts = await t.createSource(admin, "alertmanager");
      // The fixture's notification with its alert moved onto signup_success: the labels Prometheus
      // gives an alert of `signup_success{service="…"} < 0.9`, and the generatorURL it links with.
      const notify = (service: string, status = "firing") =>
        alertmanager(
          alerts,
          `{}:{alertname="SignupSuccessLow", service="${service}"}`,
          [
            {
              labels: { alertname: "SignupSuccessLow", service, severity: "page" },
              summary: "Signup success rate is low",
              expr: `signup_success{service="${service}"} < 0.9`,
            },
          ],
          status,
        );
      // A NAB series with a labelled drop (art_daily_jumpsdown) as signup_success of one service;
      // `later` moves it in time (two services breaking together would be one incident, one card).
      const series = nab().find((s) => s.name === "artificialWithAnomaly/art_daily_jumpsdown.csv");
      const sendAs = async (service: string, later = 0) => {
        await points(
          metrics,
          (series?.values ?? []).map((value, i) => ({
            name: "signup_success",
            labels: { service },
            ts: new Date((series?.timestamps[i] as number) + later).toISOString(),
            value,
          })),
        );
        await t.drain();
      };
      const alertCards = async (status: string) =>
        (await cards("alert:")).filter((c) => c.status === status && c.title.includes("SignupSuccessLow"));
      const told = "Alertmanager is firing SignupSuccessLow on it too; 1 alert card waits behind this one.";
      // The alert fires first: its own card. Then the series it watches breaks: one card telling
      // both, the alert's card set aside behind it.
      await notify("shop");
      expect(await alertCards("pending")).toHaveLength(1);
      await sendAs("shop");
      const [shop] = await cards('metric:signup_success{service="shop"}');
      expect(shop?.summary).toContain(told);
      expect(shop?.evidence).toMatchObject({ facts: { alerts: "SignupSuccessLow" } });
      // It ranks as the page does: severity "page" is the worst there is.
      expect(shop?.priorityFactors.severity).toBe(1);
      expect(await alertCards("pending")).toHaveLength(0);
      expect((await alertCards("snoozed"))[0]?.evidence).toMatchObject({ setAside: true, standIn: shop?.id });
      // The other way round: a series whose card is open, then the alert on it.
      await sendAs("cart", 3 * 60 * minute);
      await notify("cart");
      const [cart] = await cards('metric:signup_success{service="cart"}');
      expect(cart?.summary).toContain(told);
      expect(await alertCards("pending")).toHaveLength(0);
      // The cart's alert resolves: its card, set aside, goes (it must not come back in a week as
      // news), and the metric's card no longer says it fires.
      await notify("cart", "resolved");
      expect((await cards("alert:")).filter((c) => c.title.includes("on cart")).map((c) => c.status)).toEqual(
        ["expired"],
      );
      const [cartAfter] = await cards('metric:signup_success{service="cart"}');
      expect(cartAfter?.summary).not.toContain("Alertmanager is firing");
      expect(cartAfter?.status).toBe("pending");
      // An alert on a series Flick does not watch is its own card.
      await notify("api");
      expect(await alertCards("pending")).toHaveLength(1);
      // A group with one alert on the shop's series and one on a series Flick does not watch: the
      // shop's card tells of it, but the group's card stays (it would hide the other alert).
      await alertmanager(
        alerts,
        '{}:{alertname="SignupErrors"}',
        ["shop", "web"].map((service) => ({
          labels: { alertname: "SignupErrors", service, severity: "warning" },
          summary: "Signups fail",
          expr: "signup_success < 0.5",
        })),
      );
      const [shopNow] = await cards('metric:signup_success{service="shop"}');
      expect(shopNow?.summary).toContain(
        "Alertmanager is firing SignupSuccessLow, SignupErrors on it too; 1 alert card waits behind this one.",
      );
      expect(
        (await cards("alert:"))
          .filter((c) => c.title.startsWith("Firing: SignupErrors"))
          .map((c) => c.status),
      ).toEqual(["pending"]);
      // The shop's card rejected: its alert is its own card again.
      await decide(shopNow as { id: string; version: number }, "reject");
      expect(await alertCards("pending")).toHaveLength(2);
      expect(
        (await cards("alert:"))
          .filter((c) => c.title.startsWith("Firing: SignupErrors"))
          .map((c) => c.status),
      ).toEqual(["pending"]);
    });

    it("series of one metric breaking together are one card naming them all, and it stands for their alerts' card", async () => {
      const settings = await t.request(`/api/sources/${metrics.id}`, {
        cookie: admin,
        method: "PATCH",
        json: { settings: { actions: { art_daily_jumpsdown: "rollback", checkout_latency: "rollback" } } },
      });
      expect(settings.status, settings.text).toBe(200);
      // Alertmanager pages on the drop in zones a and b, one notification group (by alertname).
      const alerts = await t.createSource(admin, "alertmanager");
      await alertmanager(
        alerts,
        '{}:{alertname="CheckoutLatencyLow"}',
        ["a", "b"].map((zone) => ({
          labels: { alertname: "CheckoutLatencyLow", zone, severity: "warning" },
          summary: `Checkout latency low in zone ${zone}`,
          expr: "checkout_latency < 10",
        })),
      );
      const pageCards = async (status: string) =>
        (await cards("alert:")).filter((c) => c.status === status && c.title.includes("CheckoutLatencyLow"));
      expect(await pageCards("pending")).toHaveLength(1);

      // The same drop in three zones (each zone's points sent in its own request).
      for (const zone of ["a", "b", "c"])
        await send("checkout_latency", "artificialWithAnomaly/art_daily_jumpsdown.csv", { zone });
      const all = await cards("metric:checkout_latency");
      expect(all.map((c) => c.fingerprint)).toEqual(['metric:checkout_latency{zone="a"}']);
      const card = all[0] as typeof schema.cards.$inferSelect;
      expect(card.title).toMatch(
        /^checkout_latency (dropped \d+%|fell to [\d.]+) at 2014-04-11 (\d\d:\d\d) UTC and on 2 more series$/,
      );
      expect(card.summary).toMatch(
        /At the same time, on 2 more series:\n- zone=b: -?[\d.]+ where about [\d.]+ was expected at 2014-04-11 \d\d:\d\d UTC\n- zone=c: /,
      );
      expect(card.evidence).toMatchObject({
        facts: { series: 3, alsoOn: "zone=b; zone=c", labels: "zone=a" },
      });
      // The action is told every zone, not only the first.
      expect(card.change).toMatchObject({
        type: "webhook",
        action: "rollback",
        params: { labels: { zone: "a" }, alsoOn: [{ labels: { zone: "b" } }, { labels: { zone: "c" } }] },
      });
      // Its chart draws the other zones behind zone a's line, each up to its break.
      const preview = card.preview as {
        points: [number, number][];
        others?: { label: string; points: [number, number][] }[];
      };
      expect(preview.others?.map((o) => o.label)).toEqual(["zone=b", "zone=c"]);
      expect(preview.others?.[0]?.points.at(-1)).toEqual(preview.points.at(-1));
      // Three places hurting rank wider than one.
      expect(card.priorityFactors.blastRadius).toBeGreaterThanOrEqual(0.6);
      // Both paged zones are on this card: the page's card waits behind it.
      expect(card.summary).toContain(
        "Alertmanager is firing CheckoutLatencyLow on it too; 1 alert card waits behind this one.",
      );
      expect(await pageCards("pending")).toHaveLength(0);
      expect((await pageCards("snoozed"))[0]?.evidence).toMatchObject({ setAside: true, standIn: card.id });

      // Another zone breaking hours apart is another incident: its own card.
      await send("checkout_latency", "artificialWithAnomaly/art_daily_flatmiddle.csv", { zone: "d" });
      const d = await cards('metric:checkout_latency{zone="d"}');
      expect(d).toHaveLength(1);
      expect(d[0]?.title).not.toContain("more series");
    });

    it("rejecting an incident's card mutes all its series; a muted series neither leads nor takes others' breaks down", async () => {
      const name = "checkout_latency";
      const zoneCards = (zone: string) => cards(`metric:${name}{zone="${zone}"}`);
      // Zones e and f: two quiet days up to the other zones' last point.
      const last = Date.parse("2014-04-14T23:55:00Z");
      await points(
        metrics,
        ["e", "f"].flatMap((zone) =>
          Array.from({ length: 576 }, (_, i) => ({
            name,
            labels: { zone },
            ts: new Date(last - (575 - i) * 5 * minute).toISOString(),
            value: 40 + Math.sin(i / 7),
          })),
        ),
      );
      await t.drain();
      const muted = async () =>
        (
          await t.database.db
            .select({ fingerprint: schema.mutes.fingerprint })
            .from(schema.mutes)
            .where(like(schema.mutes.fingerprint, `metric:${name}%`))
        )
          .map((m) => m.fingerprint)
          .sort();
      const reject = async () => {
        const [lead] = await zoneCards("a");
        if (!lead) throw new Error("no card");
        const res = await t.request<{ decision: { id: string } }>(`/api/cards/${lead.id}/decisions`, {
          cookie: admin,
          json: { verdict: "reject", cardVersion: lead.version, idempotencyKey: randomUUID() },
        });
        expect(res.status, res.text).toBe(201);
        return res.body.decision.id;
      };
      // The card told zones b and c as well: rejecting it mutes the three; undoing it, none.
      const all = ["a", "b", "c"].map((zone) => `metric:${name}{zone="${zone}"}`);
      const undone = await t.request(`/api/decisions/${await reject()}/undo`, {
        cookie: admin,
        json: { idempotencyKey: randomUUID() },
      });
      expect(undone.status, undone.text).toBe(200);
      expect(await muted()).toEqual([]);
      await reject();
      expect(await muted()).toEqual(all);
      // A new drop in every zone, in one request from the collector, the muted zones' points first
      // (a little deeper than the drop rejected: not news past the mute).
      await points(
        metrics,
        ["a", "b", "c", "e", "f"].flatMap((zone) =>
          Array.from({ length: 20 }, (_, i) => ({
            name,
            labels: { zone },
            ts: new Date(last + (i + 1) * 5 * minute).toISOString(),
            value: ["e", "f"].includes(zone) ? -200 : 8,
          })),
        ),
      );
      await t.drain();
      expect((await zoneCards("a")).map((c) => c.status)).toEqual(["rejected"]);
      expect(await zoneCards("b")).toHaveLength(0);
      expect(await zoneCards("c")).toHaveLength(0);
      // Zone e leads the new incident; f, in the same request, joins it. Nothing of the muted zones.
      const e = await zoneCards("e");
      expect(e.map((c) => c.status)).toEqual(["pending"]);
      expect(e[0]?.title).toMatch(/^checkout_latency (dropped|fell)[^,]* and on 1 more series$/);
      expect(e[0]?.summary).toContain("- zone=f: ");
      expect(e[0]?.summary).not.toMatch(/zone=[abc]/);
      expect(await zoneCards("f")).toHaveLength(0);
    });

    it("an alert arriving after the break finds its card on a metric with hundreds of series", async () => {
      // 200 pods seen once each, then a 201st breaks, then Alertmanager pages on it.
      const last = Date.parse("2015-08-03T09:55:00Z");
      await points(
        metrics,
        Array.from({ length: 200 }, (_, i) => ({
          name: "wide_latency",
          labels: { pod: `p${i}` },
          ts: new Date(last - 3 * 24 * 60 * minute).toISOString(),
          value: 120,
        })),
      );
      await t.drain();
      await points(
        metrics,
        Array.from({ length: 586 }, (_, i) => ({
          name: "wide_latency",
          labels: { pod: "p200" },
          ts: new Date(last + (i - 575) * 5 * minute).toISOString(),
          value: i > 575 ? 900 : 120 * (1 + 0.01 * Math.sin(i / 7)),
        })),
      );
      await t.drain();
      const alerts = await t.createSource(admin, "alertmanager");
      await alertmanager(alerts, '{}:{alertname="WideLatencyHigh"}', [
        {
          labels: { alertname: "WideLatencyHigh", pod: "p200", severity: "warning" },
          summary: "Slow pod",
          expr: 'wide_latency{pod="p200"} > 500',
        },
      ]);
      const [card, ...more] = await cards('metric:wide_latency{pod="p200"}');
      expect(more).toHaveLength(0);
      expect(card?.summary).toContain(
        "Alertmanager is firing WideLatencyHigh on it too; 1 alert card waits behind this one.",
      );
    });

    it("a source whose metrics come from one service makes one card of unlabelled metrics breaking together", async () => {
      const one = await t.createSource(admin, "metrics", { oneService: true });
      const last = Date.parse("2015-07-06T09:55:00Z");
      const breaks = async (source: Source, name: string, usual: number, broken: number) => {
        await points(
          source,
          Array.from({ length: 586 }, (_, i) => ({
            name,
            ts: new Date(last + (i - 575) * 5 * minute).toISOString(),
            value: i > 575 ? broken : usual * (1 + 0.01 * Math.sin(i / 7)),
          })),
        );
        await t.drain();
      };
      await breaks(one, "svc_latency", 120, 900);
      await breaks(one, "svc_orders", 60, 6);
      expect((await cards("metric:svc_")).map((c) => c.title)).toEqual([
        expect.stringMatching(
          /^svc_latency rose [\d.]+× at 2015-07-06 10:00 UTC, and svc_orders (dropped \d+%|fell to [\d.]+)$/,
        ),
      ]);
      // Without the setting, two unlabelled metrics say nothing of a common cause: two cards.
      await breaks(metrics, "solo_latency", 120, 900);
      await breaks(metrics, "solo_orders", 60, 6);
      expect(await cards("metric:solo_")).toHaveLength(2);
    });

    it("an incident's card says a series that broke much further than the first one", async () => {
      // Two steady days, then zone x rises 12% and, minutes later, zone y five times over.
      const last = Date.parse("2015-05-04T07:55:00Z");
      for (const [zone, broken, late] of [
        ["x", 112, 0],
        ["y", 500, 2],
      ] as const) {
        await points(
          metrics,
          Array.from({ length: 586 }, (_, i) => ({
            name: "cart_wait_ms",
            labels: { zone },
            ts: new Date(last + (i - 575) * 5 * minute + (i > 575 ? late * minute : 0)).toISOString(),
            value: i > 575 ? broken : 100 * (1 + 0.01 * Math.sin(i / 7)),
          })),
        );
        await t.drain();
      }
      expect((await cards("metric:cart_wait_ms")).map((c) => c.title)).toEqual([
        expect.stringMatching(
          /^cart_wait_ms rose 1\d% at 2015-05-04 08:00 UTC and on 1 more series \(zone=y: rose 5(\.\d+)?×\)$/,
        ),
      ]);
      // Zone x, the lead, comes back; zone y stays up: the card tells both, so it does not say back.
      const end = last + 10 * 5 * minute;
      for (const [zone, value] of [
        ["x", 100],
        ["y", 500],
      ] as const) {
        await points(
          metrics,
          Array.from({ length: 15 }, (_, i) => ({
            name: "cart_wait_ms",
            labels: { zone },
            ts: new Date(end + (i + 1) * 5 * minute + (zone === "y" ? 2 * minute : 0)).toISOString(),
            value,
          })),
        );
        await t.drain();
      }
      const [card] = await cards("metric:cart_wait_ms");
      expect(card?.title).not.toContain("back since");
      expect(
        (card?.evidence as { facts?: Record<string, unknown> } | undefined)?.facts?.backSince,
      ).toBeUndefined();
    });

    /**
     * Two steady days of a series ending at `last`, then a break to `broken` at 12:00 (five-minute
     * points), posted in a request of its own and drained.
     */
    const breaksEndingAt =
      (last: number) =>
      async (name: string, labels: Record<string, string>, usual: number, broken: number) => {
        await points(
          metrics,
          Array.from({ length: 586 }, (_, i) => ({
            name,
            labels,
            ts: new Date(last + (i - 575) * 5 * minute).toISOString(),
            value: i > 575 ? broken : usual * (1 + 0.01 * Math.sin(i / 7)),
          })),
        );
        await t.drain();
      };

    it("metrics of one scope breaking together are one card; another scope, or another action, keeps its own", async () => {
      // pay_errors has an action of its own: accepting pay_latency's card would not run it.
      const current = await t.request<{ source: { settings: { actions?: Record<string, string> } } }>(
        `/api/sources/${metrics.id}`,
        { cookie: admin },
      );
      const patched = await t.request(`/api/sources/${metrics.id}`, {
        cookie: admin,
        method: "PATCH",
        json: {
          settings: {
            ...current.body.source.settings,
            actions: { ...current.body.source.settings.actions, pay_errors: "page-oncall" },
          },
        },
      });
      expect(patched.status, patched.text).toBe(200);
      const alerts = await t.createSource(admin, "alertmanager");
      await alertmanager(alerts, '{}:{alertname="PaySuccessLow"}', [
        {
          labels: { alertname: "PaySuccessLow", service: "pay", severity: "warning" },
          summary: "Payments fail",
          expr: 'pay_success{service="pay"} < 0.9',
        },
      ]);
      const breaks = breaksEndingAt(Date.parse("2015-03-02T11:55:00Z"));
      await breaks("pay_latency", { service: "pay" }, 120, 900);
      await breaks("pay_success", { service: "pay", region: "eu" }, 0.98, 0.4);
      await breaks("pay_queue", { service: "shop" }, 30, 400);
      await breaks("pay_errors", { service: "pay" }, 2, 60);

      expect(await cards('metric:pay_success{region="eu",service="pay"}')).toHaveLength(0);
      const [card, ...more] = await cards("metric:pay_latency");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card");
      expect(card.title).toMatch(
        /^pay_latency rose [\d.]+× at 2015-03-02 12:00 UTC, and pay_success (dropped \d+%|fell to [\d.]+)$/,
      );
      expect(card.summary).toMatch(
        /At the same time, on 1 more series:\n- pay_success \(region=eu, service=pay\): 0\.4 where about 0\.98 was expected at 2015-03-02 12:00 UTC/,
      );
      expect(card.evidence).toMatchObject({
        facts: { series: 2, metrics: "pay_latency, pay_success" },
        tells: ['metric:pay_success{region="eu",service="pay"}'],
      });
      // Its chart draws pay_latency alone: pay_success has other units, and a small chart of its
      // own below, its break marked.
      const preview = card.preview as {
        others?: unknown[];
        marks: number[];
        expected?: [number, number][];
        charts?: {
          label: string;
          points: [number, number][];
          marks: number[];
          expected?: [number, number][];
        }[];
      };
      // Each chart draws what was expected at its marked point: the gap the title tells.
      expect(preview.expected).toEqual([[preview.marks[0], expect.closeTo(120, 0)]]);
      expect(preview.others ?? []).toHaveLength(0);
      expect(preview.charts?.map((c) => c.label)).toEqual(["pay_success (region=eu, service=pay)"]);
      const chart = preview.charts?.[0];
      const marked = chart?.points[chart.marks[0] ?? -1];
      expect(marked).toEqual([Date.parse("2015-03-02T12:00:00Z"), 0.4]);
      expect(chart?.points[(chart.marks[0] ?? 0) - 1]?.[1]).toBeGreaterThan(0.9);
      expect(chart?.expected).toEqual([[chart?.marks[0], expect.closeTo(0.98, 1)]]);
      // The page on pay_success is told on it and waits behind it.
      expect(card.summary).toContain(
        "Alertmanager is firing PaySuccessLow on it too; 1 alert card waits behind this one.",
      );
      expect(
        (await cards("alert:")).filter((c) => c.title.includes("PaySuccessLow")).map((c) => c.status),
      ).toEqual(["snoozed"]);
      // The shop's queue is another scope, pay_errors another action: their own cards.
      expect((await cards("metric:pay_queue")).map((c) => c.title)).toEqual([
        expect.stringMatching(/^pay_queue rose [\d.]+× at 2015-03-02 12:00 UTC$/),
      ]);
      expect((await cards("metric:pay_errors")).map((c) => c.change)).toEqual([
        expect.objectContaining({ action: "page-oncall" }),
      ]);
    });

    it("draws another metric's every broken series on its small chart, not its first alone", async () => {
      const breaks = breaksEndingAt(Date.parse("2015-03-09T11:55:00Z"));
      await breaks("ship_latency", { service: "ship" }, 120, 900);
      await breaks("ship_success", { service: "ship", region: "eu" }, 0.98, 0.4);
      await breaks("ship_success", { service: "ship", region: "us" }, 0.97, 0.3);
      const [card, ...more] = await cards("metric:ship_latency");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card");
      const preview = card.preview as {
        others?: unknown[];
        charts?: {
          label: string;
          points: [number, number][];
          others?: { label: string; points: [number, number][] }[];
        }[];
      };
      // ship_success has its own units: one small chart, one region drawn, the other behind it on
      // the same axes.
      expect(preview.others ?? []).toHaveLength(0);
      expect(preview.charts).toHaveLength(1);
      const small = preview.charts?.[0];
      // eu broke first (its points came first): its series leads the small chart, us behind it,
      // both labelled the same way (by label name, however each was stored).
      expect(small?.label).toBe("ship_success (region=eu, service=ship)");
      expect(small?.others?.map((o) => o.label)).toEqual(["region=us, service=ship"]);
      expect(card.summary).toContain("- ship_success (region=eu, service=ship): 0.4 where");
      expect(card.summary).toContain("- ship_success (region=us, service=ship): 0.3 where");
      const behind = small?.others?.[0]?.points ?? [];
      expect(behind.at(-1)?.[1]).toBe(0.3);
      expect(behind.length).toBeGreaterThan(10);
    });

    it("a rejected alert group stays quiet as it pages the same, but a worse severity is a card again", async () => {
      const alerts = await t.createSource(admin, "alertmanager");
      const group = '{}:{alertname="DiskFull"}';
      const page = (firing: [string, string][], status = "firing") =>
        alertmanager(
          alerts,
          group,
          firing.map(([instance, severity]) => ({
            labels: { alertname: "DiskFull", instance, severity },
            summary: "Disk almost full",
            expr: 'node_filesystem_avail_bytes{mountpoint="/"} < 1e9',
          })),
          status,
        );
      const seen = async () =>
        (await cards("alert:")).filter((c) => c.title.includes("DiskFull")).map((c) => [c.status, c.summary]);
      await page([["db-1", "warning"]]);
      const [card] = (await cards("alert:")).filter((c) => c.title.includes("DiskFull"));
      await decide(card as { id: string; version: number }, "reject");
      // The same page, and one more instance at the same severity: quiet.
      await page([
        ["db-1", "warning"],
        ["db-2", "warning"],
      ]);
      expect((await seen()).map(([status]) => status)).toEqual(["rejected"]);
      // Critical now: not what was rejected.
      t.clock.advance(minute);
      await page([["db-1", "critical"]]);
      const all = await seen();
      expect(all.map(([status]) => status).sort()).toEqual(["pending", "rejected"]);
      const again = all.find(([status]) => status === "pending");
      expect(again?.[1]).toContain(
        "Its card was rejected at severity warning; now it is critical, so it is here despite the mute.",
      );
    });
  });

  describe("CI failures on the default branch", () => {
    // The fixture job ran on "main" of a repo whose default branch is "master": make it the default.
    const job = (conclusion: string, attempt: number, branch = "master") => {
      const p = ghFixture("workflow_job/completed.failure.with-organization.payload.json");
      const j = p.workflow_job as Json;
      return { ...p, workflow_job: { ...j, conclusion, run_attempt: attempt, head_branch: branch } };
    };

    /** The `name` job of `repository`, finishing `conclusion` as run `id` (its first attempt) at `sha`. */
    const unitOf =
      (repository: Json, name = "unit") =>
      (conclusion: string, id: number, sha: string) => {
        const p = job(conclusion, 1);
        const j = p.workflow_job as Json;
        return { ...p, repository, workflow_job: { ...j, id, run_id: id, name, head_sha: sha } };
      };
    /** A commit on acme/ci-fix's master (its README says `message`): its sha. */
    const commitFix = (message: string) => {
      writeFileSync(path.join(fixRepo, "README.md"), `# shop\n\n${message}\n`);
      git(fixRepo, "commit", "-q", "-am", message);
      return git(fixRepo, "rev-parse", "HEAD");
    };

    it("one card per failing job across retries, quoting the first error lines of the real log", async () => {
      await github("workflow_job", job("failure", 1));
      await github("workflow_job", job("failure", 2));
      await t.drain();
      const found = await cards("ci:");
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      expect(card.title).toBe(
        "CodeQL / linters is failing on master at 3484a3f (Run yarn run format-check) — revert it?",
      );
      expect((card.evidence as { count: number }).count).toBe(2);
      expect((card.preview as { text: string }).text).toContain("java.nio.file.NoSuchFileException");
      expect(card.change).toMatchObject({
        type: "github",
        operation: "revert_commit",
        params: { sha: "3484a3fb816e0859fd6e1cea078d76385ff50625", branch: "master" },
      });
      expect(githubApi.requests.some((r) => r.headers.authorization === "Bearer ghp_test")).toBe(true);
    });

    it("takes the card back when the job passes on retry, then proposes a re-run the next time (flaky)", async () => {
      await github("workflow_job", job("success", 3));
      await t.drain();
      expect((await cards("ci:"))[0]?.status).toBe("expired");
      // The next failure comes later (the test clock stands still otherwise, and two cards made at
      // the same instant have no order: PostgreSQL sometimes listed the new one first).
      t.clock.advance(60 * minute);
      const next = job("failure", 1);
      (next.workflow_job as Json).run_id = 2202229999;
      await github("workflow_job", next);
      await t.drain();
      const found = await cards("ci:");
      expect(found).toHaveLength(2);
      expect(found[1]?.title).toMatch(/flaky before, re-run\?$/);
      expect(found[1]?.summary).toContain("passed on a retry of the same commit 1 time before.");
      expect(found[1]?.change).toMatchObject({
        operation: "rerun_workflow",
        params: { runId: 2202229999, failedOnly: true },
      });
    });

    it("leaves out the error-looking lines the last passing run printed too", async () => {
      // A real pair: google/auto's build prints [ERROR] "cannot find symbol" lines from a
      // dependency:go-offline step in every run, green or red; this failure's own error is the
      // class file of the wrong version, further down.
      jobLogs.set(700, fixture("ci-logs/google_auto_693/pass.log"));
      jobLogs.set(701, fixture("ci-logs/google_auto_693/fail.log"));
      const build = (conclusion: string, id: number, sha: string) => {
        const p = job(conclusion, 1);
        const j = p.workflow_job as Json;
        return { ...p, workflow_job: { ...j, id, run_id: id, name: "build", head_sha: sha } };
      };
      await github("workflow_job", build("success", 700, "7".repeat(40)));
      await github("workflow_job", build("failure", 701, "8".repeat(40)));
      await t.drain();
      const [card] = (await cards("ci:")).filter((c) => c.fingerprint.endsWith("/build"));
      if (!card) throw new Error("no card for the build job");
      expect(card.summary).toContain(
        "First errors in the log (leaving out what the last passing run, at 7777777, also printed):",
      );
      const preview = (card.preview as { text: string }).text;
      expect(preview).not.toContain("dependency:go-offline");
      expect(preview).not.toContain("cannot find symbol");
      expect(preview).toContain("class file has wrong version 55.0, should be 52.0");
      // The fail log alone gives 60 lines (the bench's "failing log only"); with the pass log, 10.
      expect((card.evidence as { facts: Json }).facts.errorLines).toBe(10);
    });

    it("a log printing NUL bytes (which PostgreSQL cannot store) still makes its card, the bytes as U+FFFD", async () => {
      // A test that cats a binary file to the console: GitHub serves the bytes as they came.
      jobLogs.set(
        710,
        failLog.replace(
          "NoSuchFileException: ../data/astor_399.log",
          "NoSuchFileException: ../data/astor\u0000\u0000399.log",
        ),
      );
      const p = job("failure", 1);
      const j = p.workflow_job as Json;
      await github("workflow_job", {
        ...p,
        workflow_job: { ...j, id: 710, run_id: 710, name: "binary-output", head_sha: "ab".repeat(20) },
      });
      await t.drain();
      const [card] = (await cards("ci:")).filter((c) => c.fingerprint.endsWith("/binary-output"));
      if (!card) throw new Error("no card for the job whose log printed NUL bytes");
      expect(card.title).toMatch(/^CodeQL \/ binary-output is failing on master at ababab/);
      expect((card.preview as { text: string }).text).toContain(
        "NoSuchFileException: ../data/astor\uFFFD\uFFFD399.log",
      );
      const failing = await t.database.db.query.signals.findMany({
        where: (s, { isNotNull }) => isNotNull(s.lastError),
      });
      expect(failing.map((s) => s.lastError)).toEqual([]);
    });

    it("a job still red on later commits proposes reverting the commit it broke at, not the latest", async () => {
      const run = (conclusion: string, id: number, sha: string) => {
        const p = job(conclusion, 1);
        const j = p.workflow_job as Json;
        return { ...p, workflow_job: { ...j, id, run_id: id, name: "unit", head_sha: sha } };
      };
      const unit = async () => {
        const found = (await cards("ci:")).filter((c) => c.fingerprint.endsWith("/unit"));
        expect(found).toHaveLength(1);
        return found[0] as typeof schema.cards.$inferSelect;
      };
      await github("workflow_job", run("success", 900, "9".repeat(40)));
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 902, "e".repeat(40)));
      await t.drain();
      expect((await unit()).title).toMatch(
        /^CodeQL \/ unit is failing on master at eeeeeee .*— revert it\?$/,
      );
      // The next commit, pushed while it was red, fails too: the break is still eeeeeee's.
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 903, "f".repeat(40)));
      await t.drain();
      const still = await unit();
      expect(still.title).toMatch(
        /^CodeQL \/ unit is failing on master since eeeeeee .*, still at fffffff — revert eeeeeee\?$/,
      );
      expect(still.change).toMatchObject({ operation: "revert_commit", params: { sha: "e".repeat(40) } });
      expect((still.change as { params: { reason: string } }).params.reason).toContain(
        `fails on \`master\` since ${"e".repeat(40)}`,
      );
      expect(still.summary).toContain(
        "Accept opens a pull request that reverts eeeeeee, the commit this job began failing on (it still fails at fffffff, pushed since)",
      );
      expect((still.evidence as { facts: Json }).facts).toMatchObject({
        commit: "eeeeeee",
        failingAt: "fffffff",
      });
      // A run for a commit between the green one and eeeeeee finishes late, red: the break is there.
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 901, "d".repeat(40)));
      await t.drain();
      const earlier = await unit();
      expect(earlier.change).toMatchObject({ params: { sha: "d".repeat(40) } });
      expect(earlier.title).toMatch(/ since ddddddd .*, still at fffffff — revert ddddddd\?$/);
    });

    it("GitHub is asked before a revert is proposed: a later commit to the same files makes it 'revert back to' before the break", async () => {
      const repository = { full_name: "acme/ci-fix", default_branch: "master" };
      const run = unitOf(repository);
      const commit = (file: string, text: string, message: string) => {
        writeFileSync(path.join(fixRepo, file), text);
        git(fixRepo, "commit", "-q", "-am", message);
        return git(fixRepo, "rev-parse", "HEAD");
      };
      const green = git(fixRepo, "rev-parse", "HEAD");
      await github("workflow_job", run("success", 3900, green));
      const broke = commit("cart.js", "export const total = tax(0);\n", "Cart: totals with tax");
      const docs = commit("README.md", "# shop\n\nTotals include tax.\n", "Docs");
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 3901, broke));
      await t.drain();
      // The branch moved on with a commit to another file: the revert goes on as proposed.
      const first = await onlyCard("ci:acme/ci-fix:");
      expect(first.title).toMatch(new RegExp(`at ${broke.slice(0, 7)} .*— revert it\\?$`));
      expect(first.change).toMatchObject({ params: { sha: broke, branch: "master" } });
      expect((first.change as { params: Json }).params).not.toHaveProperty("since");
      expect((first.verification as Verification).at(-1)).toEqual({
        check: "the revert goes onto master's tip",
        status: "passed",
        detail: `no later commit changed its files (master is at ${docs.slice(0, 7)})`,
      });
      // Someone tries to fix it forward in the same file, and it still fails: reverting the commit
      // that broke it alone would need a merge (the executor refuses that) — back to before it broke.
      const fix = commit("cart.js", "export const total = tax(0) + 0;\n", "Try to fix the cart");
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 3902, fix));
      await t.drain();
      const card = await onlyCard("ci:acme/ci-fix:");
      expect(card.title).toMatch(
        new RegExp(
          `since ${broke.slice(0, 7)} .*, still at ${fix.slice(0, 7)} — revert back to ${green.slice(0, 7)}\\?$`,
        ),
      );
      expect(card.change).toMatchObject({
        operation: "revert_commit",
        params: { sha: fix, since: green, branch: "master" },
      });
      expect(card.summary).toContain(
        `Later commits changed cart.js too, so reverting ${broke.slice(0, 7)} alone would need a merge. Accept opens a pull request that reverts all 3 commits after ${green.slice(0, 7)} up to ${fix.slice(0, 7)}, the tip of master: the branch as it was before the job broke, later work included.`,
      );
      expect((card.verification as Verification).at(-1)).toMatchObject({
        status: "passed",
        detail: `with the 3 commits after ${green.slice(0, 7)} reverted together (later commits changed cart.js)`,
      });
    });

    it("a revert GitHub would refuse is not proposed: the card says why", async () => {
      const repository = { full_name: "acme/ci-fix", default_branch: "master" };
      const lint = unitOf(repository, "lint");
      // The push says it came after a commit that a force-push has since taken out of the history.
      git(fixRepo, "checkout", "-q", "-b", "rewritten");
      writeFileSync(path.join(fixRepo, "notes.md"), "gone\n");
      git(fixRepo, "add", "notes.md");
      git(fixRepo, "commit", "-q", "-m", "Gone");
      const gone = git(fixRepo, "rev-parse", "HEAD");
      git(fixRepo, "checkout", "-q", "master");
      const pushed = ["One", "Two"].map(commitFix);
      const last = pushed[1] as string;
      await github("push", {
        ref: "refs/heads/master",
        before: gone,
        after: last,
        forced: false,
        deleted: false,
        repository,
        commits: pushed.map((id, i) => ({ id, message: ["One", "Two"][i] })),
      });
      t.clock.advance(minute);
      await github("workflow_job", lint("failure", 4901, last));
      await t.drain();
      const card = await onlyCard("ci:acme/ci-fix:CodeQL/lint");
      const why = `${gone.slice(0, 7)} does not come before ${last.slice(0, 7)} (GitHub compares them as "diverged"): there is no range to revert`;
      expect(card.title).toMatch(
        / at [0-9a-f]{7}, the last of 2 commits pushed together .*— Flick cannot revert it$/,
      );
      expect(card.kind).toBe("insight");
      expect(card.change).toEqual({ type: "none" });
      expect(card.summary).toContain(`Flick cannot revert it: ${why}.`);
      expect((card.verification as Verification).at(-1)).toEqual({
        check: "the revert goes onto master's tip",
        status: "failed",
        detail: why,
      });
    });

    it("a job broken after pushes Flick did not hear of: GitHub's compare lists every commit since its last pass", async () => {
      const repository = { full_name: "acme/ci-fix", default_branch: "master" };
      const typecheck = unitOf(repository, "typecheck");
      const green = git(fixRepo, "rev-parse", "HEAD");
      await github("workflow_job", typecheck("success", 5900, green));
      const [a, b, c] = ["Cart: round totals", "Docs", "Tidy"].map(commitFix) as [string, string, string];
      // Only the last push's webhook came (the first, of two commits, was never delivered).
      await github("push", {
        ref: "refs/heads/master",
        before: b,
        after: c,
        forced: false,
        deleted: false,
        repository,
        commits: [{ id: c, message: "Tidy" }],
      });
      t.clock.advance(minute);
      const compared = () =>
        githubApi.requests.filter((r) => r.path === `/repos/acme/ci-fix/compare/${green}...${c}`).length;
      const before = compared();
      await github("workflow_job", typecheck("failure", 5901, c));
      await t.drain();
      const card = await onlyCard("ci:acme/ci-fix:CodeQL/typecheck");
      const [g7, c7] = [green.slice(0, 7), c.slice(0, 7)];
      expect(card.title).toMatch(
        new RegExp(
          `^CodeQL / typecheck is failing on master at ${c7}, 3 commits after its last pass at ${g7} .*— revert all 3\\?$`,
        ),
      );
      expect(card.change).toMatchObject({
        operation: "revert_commit",
        params: { sha: c, since: green, branch: "master" },
      });
      expect(card.summary).toContain(
        `Accept opens a pull request that reverts the 3 commits since the job last passed at ${g7}, up to ${c7} — GitHub lists them between the two, and Flick saw no run of it finish at the others, so any of them may have broken the job: ${a.slice(0, 7)} "Cart: round totals", ${b.slice(0, 7)} "Docs", ${c7} "Tidy"`,
      );
      expect((card.change as { params: { reason: string } }).params.reason).toContain(
        `The job last passed at ${g7}; 3 commits came after it (as GitHub compares the two), and Flick saw no run of it finish at the others`,
      );
      // The range is asked once: the job's next failure at the same commit reads what GitHub said
      // (the revert check, which compares it too, is asked at each card).
      const first = compared() - before;
      expect(first).toBe(2);
      const asked = compared();
      t.clock.advance(minute);
      await github("workflow_job", {
        ...typecheck("failure", 5901, c),
        workflow_job: { ...(typecheck("failure", 5901, c).workflow_job as Json), run_attempt: 2 },
      });
      await t.drain();
      expect(compared() - asked).toBe(1);
      expect((await onlyCard("ci:acme/ci-fix:CodeQL/typecheck")).title).toBe(card.title);
    });

    it("a job that last passed more than 50 commits ago is not reverted that far back: the card names the push it broke at", async () => {
      const repository = { full_name: "acme/ci-fix", default_branch: "master" };
      const nightly = unitOf(repository, "nightly");
      const green = git(fixRepo, "rev-parse", "HEAD");
      await github("workflow_job", nightly("success", 6900, green));
      const made = Array.from({ length: 52 }, (_, i) => commitFix(`Day ${i}`));
      const [b, c] = made.slice(-2) as [string, string];
      await github("push", {
        ref: "refs/heads/master",
        before: made.at(-3),
        after: c,
        forced: false,
        deleted: false,
        repository,
        commits: [
          { id: b, message: "Day 50" },
          { id: c, message: "Day 51" },
        ],
      });
      t.clock.advance(minute);
      await github("workflow_job", nightly("failure", 6901, c));
      await t.drain();
      const card = await onlyCard("ci:acme/ci-fix:CodeQL/nightly");
      expect(card.title).toMatch(/, the last of 2 commits pushed together .*— revert all 2\?$/);
      expect(card.change).toMatchObject({ params: { sha: c, since: made.at(-3) } });
    });

    it("a job broken after pushes CI finished no run at proposes reverting every commit since its last pass", async () => {
      const repository = { full_name: "acme/ci-cancelled", default_branch: "master" };
      const run = unitOf(repository);
      const push = (before: string, after: string, commits: [string, string][]) =>
        github("push", {
          ref: "refs/heads/master",
          before: before.repeat(40),
          after: after.repeat(40),
          forced: false,
          deleted: false,
          repository,
          commits: commits.map(([c, message]) => ({ id: c.repeat(40), message })),
        });
      await github("workflow_job", run("success", 2900, "1".repeat(40)));
      // Three pushes in a few minutes: the workflow's runs at the first two were cancelled for the
      // next (GitHub's cancel-in-progress), so CI finished a run at the last only.
      await push("1", "2", [["2", "Cart: totals with tax"]]);
      await github("workflow_job", run("cancelled", 2901, "2".repeat(40)));
      await push("2", "4", [
        ["3", "Docs"],
        ["4", "Tidy"],
      ]);
      await push("4", "5", [["5", "Bump the lockfile"]]);
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 2903, "5".repeat(40)));
      await t.drain();
      const card = await onlyCard("ci:acme/ci-cancelled:");
      expect(card.title).toMatch(
        /^CodeQL \/ unit is failing on master at 5555555, 4 commits after its last pass at 1111111 .*— revert all 4\?$/,
      );
      expect(card.change).toMatchObject({
        operation: "revert_commit",
        params: { sha: "5".repeat(40), since: "1".repeat(40), branch: "master" },
      });
      expect(card.summary).toContain(
        'Accept opens a pull request that reverts the 4 commits since the job last passed at 1111111, up to 5555555 — CI finished no run at the others (3 pushes), so any of them may have broken the job: 2222222 "Cart: totals with tax", 3333333 "Docs", 4444444 "Tidy", 5555555 "Bump the lockfile"',
      );
      expect((card.change as { params: { reason: string } }).params.reason).toContain(
        "The job last passed at 1111111; 4 commits came after it in 3 pushes, and CI finished no run at the others",
      );
      // The run at 4444444 was not cancelled after all: it finishes late, green. The branch is still
      // red at 5555555 (the card stays), and only what came after 4444444 is suspect now.
      t.clock.advance(minute);
      await github("workflow_job", run("success", 2902, "4".repeat(40)));
      await t.drain();
      expect((await onlyCard("ci:acme/ci-cancelled:")).status).toBe("pending");
      t.clock.advance(minute);
      await github("workflow_job", {
        ...run("failure", 2903, "5".repeat(40)),
        workflow_job: { ...(run("failure", 2903, "5".repeat(40)).workflow_job as Json), run_attempt: 2 },
      });
      await t.drain();
      const narrowed = await onlyCard("ci:acme/ci-cancelled:");
      expect(narrowed.title).toMatch(/ at 5555555 .*— revert it\?$/);
      expect((narrowed.change as { params: Json }).params).not.toHaveProperty("since");
    });

    it("a job broken at the last commit of a push of three proposes reverting all three", async () => {
      const repository = { full_name: "acme/ci-push", default_branch: "master" };
      const run = unitOf(repository);
      const commit = (c: string, message: string) => ({ id: c.repeat(40), message });
      await github("workflow_job", run("success", 1900, "1".repeat(40)));
      await github("push", {
        ref: "refs/heads/master",
        before: "1".repeat(40),
        after: "4".repeat(40),
        forced: false,
        deleted: false,
        repository,
        commits: [
          commit("2", "Cart: totals with tax\n\nAnd a body."),
          commit("3", "Docs"),
          commit("4", "Bump the lockfile"),
        ],
      });
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 1901, "4".repeat(40)));
      await t.drain();
      const [card, ...more] = await cards("ci:acme/ci-push:");
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no card for the pushed job");
      expect(card.title).toMatch(
        /^CodeQL \/ unit is failing on master at 4444444, the last of 3 commits pushed together .*— revert all 3\?$/,
      );
      expect(card.change).toMatchObject({
        operation: "revert_commit",
        repository: "acme/ci-push",
        params: { sha: "4".repeat(40), since: "1".repeat(40), branch: "master" },
      });
      expect((card.change as { params: { reason: string } }).params.reason).toContain(
        "It was the last of 3 commits pushed together, and CI ran at it only: any of them may have broken the job, so this reverts all 3 (1111111..4444444).",
      );
      expect(card.summary).toContain(
        'Accept opens a pull request that reverts the 3 commits pushed together at 4444444 — CI ran at the last only, so any of them may have broken the job: 2222222 "Cart: totals with tax", 3333333 "Docs", 4444444 "Bump the lockfile"',
      );
      expect((card.evidence as { facts: Json }).facts).toMatchObject({
        pushed: "3 commits, 1111111..4444444",
      });

      // A push of one commit, red at once: that commit alone.
      await github("workflow_job", run("success", 1902, "5".repeat(40)));
      await github("push", {
        ref: "refs/heads/master",
        before: "5".repeat(40),
        after: "6".repeat(40),
        repository,
        commits: [commit("6", "One change")],
      });
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 1903, "6".repeat(40)));
      await t.drain();
      const all = await cards("ci:acme/ci-push:");
      // The green run took the card back and the red one opened another, in one batch.
      expect(all.map((c) => c.status)).toEqual(["expired", "pending"]);
      const latest = all.at(-1);
      if (!latest) throw new Error("no card for the second push");
      expect(latest.title).toMatch(/ at 6666666 .*— revert it\?$/);
      expect((latest.change as { params: Json }).params).not.toHaveProperty("since");

      // A push of seven: the first five named, the rest counted.
      await github("workflow_job", run("success", 1904, "7".repeat(40)));
      await t.drain();
      const seven = ["a", "b", "c", "d", "e", "f", "8"];
      await github("push", {
        ref: "refs/heads/master",
        before: "7".repeat(40),
        after: "8".repeat(40),
        repository,
        commits: seven.map((c, i) => commit(c, `Step ${i + 1}`)),
      });
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 1905, "8".repeat(40)));
      await t.drain();
      const big = (await cards("ci:acme/ci-push:")).at(-1);
      expect(big?.title).toMatch(/ at 8888888, the last of 7 commits pushed together .*— revert all 7\?$/);
      expect(big?.summary).toContain(
        'may have broken the job: aaaaaaa "Step 1", bbbbbbb "Step 2", ccccccc "Step 3", ddddddd "Step 4", eeeeeee "Step 5" and 2 more.',
      );

      // A pull request merged with a merge commit: its commits and the merge, reverted as the merge.
      await github("workflow_job", run("success", 1906, "9".repeat(40)));
      await t.drain();
      await github("push", {
        ref: "refs/heads/master",
        before: "9".repeat(40),
        after: "ef".repeat(20),
        repository,
        commits: [
          { id: "ab".repeat(20), message: "Tax on totals" },
          { id: "cd".repeat(20), message: "Tax: tests" },
          { id: "ef".repeat(20), message: "Merge pull request #12 from acme/tax\n\nTax on totals" },
        ],
      });
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 1907, "ef".repeat(20)));
      await t.drain();
      const merged = (await cards("ci:acme/ci-push:")).at(-1);
      expect(merged?.title).toMatch(/ at efefefe, the merge of #12 .*— revert the merge\?$/);
      expect(merged?.summary).toContain(
        "Accept opens a pull request that reverts the merge of #12 at efefefe, the 3 commits it brought — CI ran at the last only",
      );
      expect(merged?.change).toMatchObject({ params: { sha: "ef".repeat(20), since: "9".repeat(40) } });
      // Nothing that comes later is blamed on these pushes.
      t.clock.advance(60 * minute);
    });

    it("ignores failures on other branches", async () => {
      const before = await cards("ci:Codertocat/");
      await github("workflow_job", job("failure", 1, "feature/x"));
      await t.drain();
      // No card made, none counting it.
      expect(await cards("ci:Codertocat/")).toEqual(before);
    });

    it("a rejected failing job stays quiet while it stays red, but breaking again after a green run is a card", async () => {
      const run = (conclusion: string, id: number, sha: string) => {
        const p = job(conclusion, 1);
        const j = p.workflow_job as Json;
        return { ...p, workflow_job: { ...j, id, run_id: id, name: "smoke", head_sha: sha } };
      };
      const smoke = async () => (await cards("ci:")).filter((c) => c.fingerprint.endsWith("/smoke"));
      t.clock.advance(60 * minute);
      await github("workflow_job", run("failure", 801, "a".repeat(40)));
      await t.drain();
      const [card] = await smoke();
      if (!card) throw new Error("no card for the smoke job");
      await decide(card, "reject");
      // Still red on the next commit: the same breakage, quiet.
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 802, "b".repeat(40)));
      await t.drain();
      expect((await smoke()).map((c) => c.status)).toEqual(["rejected"]);
      // Green, then red again: another commit to revert, not the one rejected.
      t.clock.advance(minute);
      await github("workflow_job", run("success", 803, "c".repeat(40)));
      await t.drain();
      t.clock.advance(minute);
      await github("workflow_job", run("failure", 804, "d".repeat(40)));
      await t.drain();
      const [, again] = await smoke();
      expect(again?.status).toBe("pending");
      expect(again?.title).toMatch(/ at ddddddd/);
      expect(again?.summary).toContain(
        "Its card was rejected when it failed at aaaaaaa; it passed since and now fails at ddddddd, so it is here despite the mute.",
      );
    });

    it("another CI's check run failing on the default branch is a card too, its output read for error lines", async () => {
      // CircleCI (through its GitHub App) reports check runs, not Actions jobs.
      const check = (
        conclusion: string,
        suite: number,
        sha: string,
        text?: string,
        app = "circleci-checks",
      ) => {
        const p = ghFixture("check_run/completed.payload.json");
        const run = p.check_run as Json;
        const main = (p.repository as Json).default_branch as string;
        return {
          ...p,
          check_run: {
            ...run,
            id: suite * 10 + Math.floor(Math.random() * 10),
            name: "build-and-test",
            head_sha: sha,
            conclusion,
            details_url: "https://app.circleci.com/pipelines/github/acme/shop/77/workflows/1",
            pull_requests: [],
            app: {
              ...(run.app as Json),
              slug: app,
              name: app === "github-actions" ? "GitHub Actions" : "CircleCI Checks",
            },
            check_suite: { ...(run.check_suite as Json), id: suite, head_branch: main, pull_requests: [] },
            output: {
              title: conclusion === "failure" ? "Tests failed" : "Tests passed",
              summary: "",
              text: text ?? null,
            },
          },
        };
      };
      const circle = async () =>
        (await cards("ci:")).filter((c) => c.fingerprint.includes(":CircleCI Checks/"));
      t.clock.advance(60 * minute);
      await github("check_run", check("success", 5001, "1".repeat(40)));
      t.clock.advance(minute);
      await github(
        "check_run",
        check(
          "failure",
          5002,
          "2".repeat(40),
          "Running tests\n  ✓ cart totals\n  1) checkout applies the coupon\nAssertionError: expected 90 to equal 81\n    at Context.<anonymous> (test/checkout.test.js:41:12)\n1 failing",
        ),
      );
      // GitHub Actions' own check runs are told by their workflow_job (with the log): no second card.
      await github("check_run", check("failure", 5003, "2".repeat(40), undefined, "github-actions"));
      await t.drain();
      const [card, ...more] = await circle();
      expect(more).toHaveLength(0);
      expect((await cards("ci:")).filter((c) => c.fingerprint.includes(":GitHub Actions/"))).toHaveLength(0);
      if (!card) throw new Error("no card for the CircleCI check");
      const branch = (ghFixture("check_run/completed.payload.json").repository as Json).default_branch;
      expect(card.title).toBe(
        `CircleCI Checks / build-and-test is failing on ${branch} at 2222222 — revert it?`,
      );
      expect(card.summary).toMatch(
        /^First errors in the check's output:\n\n```\n.*AssertionError: expected 90 to equal 81/s,
      );
      expect((card.preview as { text: string }).text).toContain("AssertionError: expected 90 to equal 81");
      expect(card.change).toMatchObject({
        type: "github",
        operation: "revert_commit",
        params: { sha: "2".repeat(40), branch },
      });
      expect((card.evidence as { links: { url: string }[] }).links).toEqual([
        { label: "Job", url: "https://app.circleci.com/pipelines/github/acme/shop/77/workflows/1" },
      ]);
      // Re-run in the same suite, it passes: the card is taken back…
      t.clock.advance(minute);
      await github("check_run", check("success", 5002, "2".repeat(40)));
      await t.drain();
      expect((await circle()).map((c) => c.status)).toEqual(["expired"]);
      // …and next time it fails, it is flaky: re-run from CircleCI (Flick cannot), nothing to accept.
      t.clock.advance(minute);
      await github("check_run", check("failure", 5004, "4".repeat(40)));
      await t.drain();
      const flaky = (await circle()).at(-1);
      expect(flaky?.title).toBe(
        `CircleCI Checks / build-and-test failed on ${branch} — flaky before, re-run?`,
      );
      expect(flaky?.kind).toBe("insight");
      expect(flaky?.change).toEqual({ type: "none" });
      expect(flaky?.summary).toContain(
        "Re-run it from its page (https://app.circleci.com/pipelines/github/acme/shop/77/workflows/1): Flick cannot re-run another CI's jobs.",
      );
    });

    it("a commit status failing on the default branch is a card; pending, a branch's, or green again is none", async () => {
      // Jenkins reports commit statuses: no run, no job, a context and a line of description.
      const base = ghFixture("check_run/completed.payload.json");
      const repo = base.repository as Json;
      const main = repo.default_branch as string;
      const status = (state: string, sha: string, branches = [main]) => ({
        id: Math.floor(Math.random() * 1e9),
        sha,
        name: repo.full_name,
        context: "continuous-integration/jenkins",
        description:
          state === "failure" ? "Build #12 failed: 3 tests failed in PaymentsTest" : "Build #12 running",
        target_url: "https://jenkins.acme.dev/job/shop/12/",
        state,
        branches: branches.map((name) => ({ name, commit: { sha } })),
        repository: repo,
        sender: base.sender,
      });
      const jenkins = async () =>
        (await cards("ci:")).filter((c) => c.fingerprint.endsWith("/continuous-integration/jenkins"));
      t.clock.advance(60 * minute);
      await github("status", status("pending", "5".repeat(40)));
      await github("status", status("failure", "6".repeat(40), ["feature/payments"]));
      await t.drain();
      expect(await jenkins()).toHaveLength(0);
      await github("status", status("failure", "5".repeat(40)));
      await t.drain();
      const [card] = await jenkins();
      expect(card?.title).toBe(
        `continuous-integration/jenkins is failing on ${main} at 5555555 — revert it?`,
      );
      expect(card?.fingerprint).toBe(`ci:${repo.full_name}:status/continuous-integration/jenkins`);
      // Its one line is the preview; the summary does not say it twice.
      expect((card?.preview as { text: string } | undefined)?.text).toBe(
        "continuous-integration/jenkins: failure — Build #12 failed: 3 tests failed in PaymentsTest",
      );
      expect(card?.summary).toMatch(
        /^Accept opens a pull request that reverts 5555555, the commit this job fails on\.$/,
      );
      // No error lines to look for in a status; the revert could not be checked (the local GitHub
      // has no git data for this repository).
      expect(card?.verification).toEqual([
        expect.objectContaining({ check: "the failure is on the default branch", status: "passed" }),
        expect.objectContaining({ check: `the revert goes onto ${main}'s tip`, status: "skipped" }),
      ]);
      expect(card?.change).toMatchObject({
        operation: "revert_commit",
        params: { sha: "5".repeat(40), branch: main },
      });
      // Green at the next commit: taken back.
      t.clock.advance(minute);
      await github("status", status("success", "7".repeat(40)));
      await t.drain();
      expect((await jenkins()).map((c) => c.status)).toEqual(["expired"]);
    });
  });

  describe("ready pull requests", () => {
    const pr = (action: string, patch: Json = {}) => {
      const p = ghFixture(`pull_request/${action}.payload.json`);
      return { ...p, pull_request: { ...(p.pull_request as Json), ...patch } };
    };
    const check = (conclusion: string, sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821", number = 2) => {
      const p = ghFixture("check_run/completed.payload.json");
      const c = p.check_run as Json;
      return {
        ...p,
        check_run: {
          ...c,
          conclusion,
          head_sha: sha,
          pull_requests: [{ ...(c.pull_requests as Json[])[0], number }],
        },
      };
    };
    const review = (state: string) => {
      const p = ghFixture("pull_request_review/submitted.payload.json");
      return { ...p, review: { ...(p.review as Json), state, user: { login: "octocat" } } };
    };

    it("green checks alone make no card; an approval makes a merge card pinned to the head commit", async () => {
      await github("pull_request", pr("opened"));
      await github("check_run", check("success"));
      await t.drain();
      expect(await cards("github:pr:Codertocat/Hello-World#2")).toHaveLength(0);
      await github("pull_request_review", review("approved"));
      await t.drain();
      const [card] = await cards("github:pr:Codertocat/Hello-World#2");
      expect(card?.title).toBe("Merge #2: Update the README with new information.");
      // How big it is, before anyone opens the diff (the fixture's counts: one line each way).
      expect((card?.preview as { text: string } | undefined)?.text).toBe(
        "#2 Update the README with new information.\nby Codertocat · head ec26c3e · +1 −1 in 1 file",
      );
      expect(card?.change).toMatchObject({
        type: "github",
        operation: "merge_pr",
        params: { number: 2, sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821" },
      });
    });

    it("a person's PR whose merge card was rejected comes back when it is ready at new commits", async () => {
      const head1 = "1".repeat(40);
      const head2 = "2".repeat(40);
      const at = (action: string, sha: string) =>
        pr(action, { number: 41, head: { ...(pr(action).pull_request as { head: Json }).head, sha } });
      // A review event carries its pull request as GitHub last saw it: at the head it reviewed.
      const approve = (sha: string) => {
        const p = review("approved") as Json;
        const pull = p.pull_request as { head: Json };
        return { ...p, pull_request: { ...pull, number: 41, head: { ...pull.head, sha } } };
      };
      const mine = () => cards("github:pr:Codertocat/Hello-World#41");
      await github("pull_request", at("opened", head1));
      await github("check_run", check("success", head1, 41));
      await github("pull_request_review", approve(head1));
      await t.drain();
      const [card] = await mine();
      if (!card) throw new Error("no merge card");
      await decide(card, "reject");
      // The same head green again (a re-run): the same proposal, quiet.
      t.clock.advance(minute);
      await github("check_run", check("success", head1, 41));
      await t.drain();
      expect((await mine()).map((c) => c.status)).toEqual(["rejected"]);
      // The author answers with new commits, green and approved: another proposal.
      t.clock.advance(minute);
      await github("pull_request", at("synchronize", head2));
      await github("check_run", check("success", head2, 41));
      await github("pull_request_review", approve(head2));
      await t.drain();
      const [, again] = await mine();
      expect(again?.status).toBe("pending");
      expect(again?.change).toMatchObject({ params: { number: 41, sha: head2 } });
      expect(again?.summary).toContain(
        "Its merge card was rejected at 1111111; it is ready again at 2222222, so it is here despite the mute.",
      );
      // A dependency bot's PR rejected ("not this bump"): its rebase, green again, stays quiet.
      const bot = { login: "dependabot[bot]", type: "Bot" };
      const bump = (action: string, sha: string) =>
        pr(action, {
          number: 42,
          user: bot,
          head: { ...(pr(action).pull_request as { head: Json }).head, sha },
        });
      const bumps = () => cards("github:pr:Codertocat/Hello-World#42");
      await github("pull_request", bump("opened", "3".repeat(40)));
      await github("check_run", check("success", "3".repeat(40), 42));
      await t.drain();
      const [bumpCard] = await bumps();
      if (!bumpCard) throw new Error("no merge card for the bot's PR");
      await decide(bumpCard, "reject");
      t.clock.advance(minute);
      await github("pull_request", { ...bump("synchronize", "4".repeat(40)), sender: bot });
      await github("check_run", check("success", "4".repeat(40), 42));
      await t.drain();
      expect((await bumps()).map((c) => c.status)).toEqual(["rejected"]);
    });

    it("a reviewer asking for changes after the merge card takes it back; their approval brings it again", async () => {
      const head = "5".repeat(40);
      const at = (action: string) =>
        pr(action, { number: 43, head: { ...(pr(action).pull_request as { head: Json }).head, sha: head } });
      const by = (state: string, login: string) => {
        const p = review(state) as Json;
        const pull = p.pull_request as { head: Json };
        return {
          ...p,
          review: { ...(p.review as Json), user: { login } },
          pull_request: { ...pull, number: 43, head: { ...pull.head, sha: head } },
        };
      };
      const mine = () => cards("github:pr:Codertocat/Hello-World#43");
      await github("pull_request", at("opened"));
      await github("check_run", check("success", head, 43));
      await github("pull_request_review", by("approved", "octocat"));
      await t.drain();
      expect((await mine()).map((c) => c.status)).toEqual(["pending"]);
      // Another reviewer asks for changes at the same head: accepting would merge what they held back.
      t.clock.advance(minute);
      await github("pull_request_review", by("changes_requested", "hubot"));
      await t.drain();
      expect((await mine()).map((c) => c.status)).toEqual(["expired"]);
      // They approve: ready again, a merge card again.
      t.clock.advance(minute);
      await github("pull_request_review", by("approved", "hubot"));
      await t.drain();
      const [, again] = await mine();
      expect(again?.status).toBe("pending");
      expect(again?.summary).toMatch(/approved by (octocat, hubot|hubot, octocat)\./);
      // A check running again at that head takes it back too, until it is green.
      t.clock.advance(minute);
      const rerun = check("success", head, 43);
      await github("check_run", {
        ...rerun,
        check_run: { ...rerun.check_run, status: "in_progress", conclusion: null },
      });
      await t.drain();
      expect((await mine()).map((c) => c.status)).toEqual(["expired", "expired"]);
      t.clock.advance(minute);
      await github("check_run", check("success", head, 43));
      await t.drain();
      expect((await mine()).map((c) => c.status)).toEqual(["expired", "expired", "pending"]);
    });

    it("a human pushing after the card updates it to wait; a red check takes it back", async () => {
      const newHead = "f".repeat(40);
      await github(
        "pull_request",
        pr("synchronize", {
          head: { ...(pr("synchronize").pull_request as { head: Json }).head, sha: newHead },
        }),
      );
      await t.drain();
      const [waiting] = await cards("github:pr:Codertocat/Hello-World#2");
      expect(waiting?.title).toMatch(/^#2 got new commits after this card — waiting for checks on fffffff$/);
      expect(waiting?.change).toEqual({ type: "none" });
      await github("check_run", check("failure", newHead));
      await t.drain();
      const [gone] = await cards("github:pr:Codertocat/Hello-World#2");
      expect(gone?.status).toBe("expired");
    });

    it("a dependency bot's PR with green checks is ready without a review; a red one is not", async () => {
      const bot = { login: "dependabot[bot]", type: "Bot" };
      await github("pull_request", pr("opened", { number: 7, user: bot, head: { sha: "a".repeat(40) } }));
      await github("check_run", check("success", "a".repeat(40), 7));
      await github("pull_request", pr("opened", { number: 8, user: bot, head: { sha: "b".repeat(40) } }));
      await github("check_run", check("failure", "b".repeat(40), 8));
      await t.drain();
      expect(await cards("github:pr:Codertocat/Hello-World#7")).toHaveLength(1);
      expect(await cards("github:pr:Codertocat/Hello-World#8")).toHaveLength(0);
      // A conflict with the base, once GitHub has worked it out, takes the card back: the merge
      // would be refused.
      await github(
        "pull_request",
        pr("labeled", { number: 7, user: bot, head: { sha: "a".repeat(40) }, mergeable: false }),
      );
      await t.drain();
      const [conflicted] = await cards("github:pr:Codertocat/Hello-World#7");
      expect(conflicted?.status).toBe("expired");
    });

    /**
     * A pull request as GitHub's REST API gives it (the webhook's pull_request object is the same
     * representation): number, head and what GitHub worked out of merging it.
     */
    const asGitHubSays = (
      number: number,
      head: string,
      mergeable: boolean | null,
      mergeableState: string,
    ) => {
      const p = pr("opened").pull_request as Json & { head: Json };
      return { ...p, number, head: { ...p.head, sha: head }, mergeable, mergeable_state: mergeableState };
    };
    /** GitHub's `action` event of PR `number` at `head` into `base` (the fixture's, moved there). */
    const prAt = (action: string, number: number, head: string, base = "master", patch: Json = {}) => {
      const opened = pr("opened").pull_request as { head: Json; base: Json };
      return {
        ...pr("opened", {
          number,
          head: { ...opened.head, sha: head },
          base: { ...opened.base, ref: base },
          ...patch,
        }),
        action,
      };
    };
    /** PR `number` opened at `head`, its check green and approved (ready by the webhooks). */
    const readyByWebhooks = async (number: number, head: string, base = "master") => {
      const at = prAt("opened", number, head, base);
      const approval = review("approved") as Json;
      await github("pull_request", at);
      await github("check_run", check("success", head, number));
      await github("pull_request_review", { ...approval, pull_request: at.pull_request });
      await t.drain();
    };
    const lastCheck = (card: { verification: unknown }) => (card.verification as Verification).at(-1);

    it("GitHub's branch rules holding a merge back make no card; asked again by the clock, a clean answer makes it", async () => {
      const head = "6".repeat(40);
      // Branch protection wants two approvals (or a check Flick never heard of): GitHub says blocked.
      pulls.set(51, asGitHubSays(51, head, true, "blocked"));
      await readyByWebhooks(51, head);
      expect(await cards("github:pr:Codertocat/Hello-World#51")).toHaveLength(0);
      // Still held back a minute later: still none.
      t.clock.advance(minute);
      await t.tick();
      expect(await cards("github:pr:Codertocat/Hello-World#51")).toHaveLength(0);
      // The second approval came from someone whose review event Flick did not get: GitHub says clean.
      pulls.set(51, asGitHubSays(51, head, true, "clean"));
      t.clock.advance(2 * minute);
      await t.tick();
      const card = await onlyCard("github:pr:Codertocat/Hello-World#51");
      expect(card.title).toBe("Merge #51: Update the README with new information.");
      expect(card.change).toMatchObject({ operation: "merge_pr", params: { number: 51, sha: head } });
      expect(lastCheck(card)).toEqual({ check: "GitHub can merge it", status: "passed", detail: "yes" });
    });

    it("a merge card GitHub was still working out stays as it was while Flick asks again — snoozed stays snoozed — and its answer updates it", async () => {
      const head = "5e".repeat(20);
      pulls.set(57, asGitHubSays(57, head, null, "unknown"));
      await readyByWebhooks(57, head);
      const card = await onlyCard("github:pr:Codertocat/Hello-World#57");
      expect(lastCheck(card)).toEqual({
        check: "GitHub can merge it",
        status: "skipped",
        detail: "GitHub was still working it out; Flick asks again",
      });
      // A person puts it off for an hour.
      const res = await t.request(`/api/cards/${card.id}/decisions`, {
        cookie: admin,
        json: {
          verdict: "snooze",
          cardVersion: card.version,
          snoozeUntil: new Date(t.clock.now().getTime() + 60 * minute).toISOString(),
          idempotencyKey: randomUUID(),
        },
      });
      expect(res.status, res.text).toBe(201);
      const snoozed = await onlyCard("github:pr:Codertocat/Hello-World#57");
      // Asked again twice, GitHub still computing: nothing new, so the card is as the person left it
      // (not woken, not a new version a swipe on it would be refused for, not moved up the feed).
      for (const wait of [2, 4]) {
        t.clock.advance(wait * minute);
        await t.tick();
      }
      const still = await onlyCard("github:pr:Codertocat/Hello-World#57");
      expect(still.status).toBe("snoozed");
      expect(still.version).toBe(snoozed.version);
      expect(still.updatedAt).toEqual(snoozed.updatedAt);
      // GitHub has worked it out: the card says so (still snoozed: no news a person waits for).
      pulls.set(57, asGitHubSays(57, head, true, "clean"));
      t.clock.advance(8 * minute);
      await t.tick();
      const answered = await onlyCard("github:pr:Codertocat/Hello-World#57");
      expect(lastCheck(answered)).toEqual({ check: "GitHub can merge it", status: "passed", detail: "yes" });
      expect(answered.version).toBeGreaterThan(snoozed.version);
      expect(answered.status).toBe("snoozed");
    });

    it("a conflict or a push GitHub knows of and the webhooks did not tell makes no merge card", async () => {
      // The webhooks said mergeable null (not worked out yet); GitHub has since found a conflict.
      pulls.set(52, asGitHubSays(52, "7".repeat(40), false, "dirty"));
      await readyByWebhooks(52, "7".repeat(40));
      expect(await cards("github:pr:Codertocat/Hello-World#52")).toHaveLength(0);
      // GitHub's head is a commit pushed after the one the checks and the approval were for.
      pulls.set(53, asGitHubSays(53, "9".repeat(40), true, "clean"));
      await readyByWebhooks(53, "8".repeat(40));
      expect(await cards("github:pr:Codertocat/Hello-World#53")).toHaveLength(0);
      // Its check at the new head, green: ready at what GitHub would merge.
      await github("check_run", check("success", "9".repeat(40), 53));
      await t.drain();
      const card = await onlyCard("github:pr:Codertocat/Hello-World#53");
      expect(card.change).toMatchObject({
        operation: "merge_pr",
        params: { number: 53, sha: "9".repeat(40) },
      });
    });

    it("a branch behind a base whose rules want it up to date is a card to update it, then to merge it", async () => {
      const head = "d".repeat(40);
      pulls.set(54, asGitHubSays(54, head, true, "behind"));
      await readyByWebhooks(54, head);
      const update = await onlyCard("github:pr:Codertocat/Hello-World#54");
      expect(update.title).toBe(
        "Update #54 with master so it can be merged: Update the README with new information.",
      );
      expect(update.summary).toContain(
        "GitHub will not merge it yet: the branch is behind master, whose rules want it up to date.",
      );
      expect(update.change).toEqual({
        type: "github",
        operation: "update_branch",
        repository: "Codertocat/Hello-World",
        params: { number: 54, sha: head },
      });
      expect(lastCheck(update)).toMatchObject({
        status: "failed",
        detail: "not yet: the branch is behind master, whose rules want it up to date",
      });
      // Updated (a merge commit of master on the branch), green again: the merge card.
      const merged = "e".repeat(40);
      pulls.set(54, asGitHubSays(54, merged, true, "clean"));
      await github(
        "pull_request",
        pr("synchronize", {
          number: 54,
          head: { ...(pr("synchronize").pull_request as { head: Json }).head, sha: merged },
        }),
      );
      await github("check_run", check("success", merged, 54));
      await t.drain();
      const now = (await cards("github:pr:Codertocat/Hello-World#54")).at(-1);
      expect(now?.change).toMatchObject({ operation: "merge_pr", params: { number: 54, sha: merged } });
      expect(now?.status).toBe("pending");
    });

    it("a pull request into a branch with a merge queue is a card to add it to the queue", async () => {
      const head = "3c".repeat(20);
      const node = "PR_kwDOqueue58";
      // A branch whose merges go through a queue takes no direct merge: GitHub may say "blocked".
      pulls.set(58, { ...asGitHubSays(58, head, true, "blocked"), node_id: node });
      await readyByWebhooks(58, head, "release");
      const card = await onlyCard("github:pr:Codertocat/Hello-World#58");
      expect(card.title).toBe(
        "Merge #58 through release's merge queue: Update the README with new information.",
      );
      expect(card.summary).toContain(
        "Accept adds it to release's merge queue at exactly this commit; GitHub merges it once the queue's checks pass.",
      );
      expect(card.change).toEqual({
        type: "github",
        operation: "enqueue_pr",
        repository: "Codertocat/Hello-World",
        params: { number: 58, sha: head, nodeId: node },
      });
      expect(lastCheck(card)).toEqual({
        check: "GitHub can merge it",
        status: "passed",
        detail: "yes, through release's merge queue",
      });
      // Accepted: GitHub's GraphQL is asked to queue that pull request at that commit.
      await decide(card, "accept");
      await carryOut();
      const sent = githubApi.requests.filter((r) => r.path === "/graphql");
      expect(sent).toHaveLength(1);
      const mutation = JSON.parse(sent[0]?.body ?? "{}") as { query: string; variables: Json };
      expect(mutation.query).toContain(
        "enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $sha})",
      );
      expect(mutation.variables).toEqual({ id: node, sha: head });
      expect(sent[0]?.headers.authorization).toBe("Bearer ghp_test");
      expect((await cards("github:pr:Codertocat/Hello-World#58")).map((c) => c.status)).toEqual(["applied"]);
      // What came of it is on the card: the queue's checks failed and GitHub took it out…
      const pull58 = (action: string, sha: string, patch: Json = {}) =>
        prAt(action, 58, sha, "release", patch);
      t.clock.advance(minute);
      await github("pull_request", { ...pull58("dequeued", head), reason: "CI_FAILURE" });
      await t.drain();
      const [failed] = await cards("github:pr:Codertocat/Hello-World#58");
      expect(lastCheck(failed as { verification: unknown })).toEqual({
        check: "merged by the merge queue",
        status: "failed",
        detail: "not merged: its checks failed in the queue (at 3c3c3c3)",
        after: true,
      });
      // … fixed by a new commit, queued again from its next card, and merged: that card says so.
      const fix = "7a".repeat(20);
      pulls.set(58, { ...asGitHubSays(58, fix, true, "blocked"), node_id: node });
      t.clock.advance(minute);
      await github("pull_request", pull58("synchronize", fix));
      await github("check_run", check("success", fix, 58));
      await t.drain();
      const again = (await cards("github:pr:Codertocat/Hello-World#58")).at(-1);
      if (!again) throw new Error("no card at the fix");
      expect(again.change).toMatchObject({ operation: "enqueue_pr", params: { sha: fix } });
      await decide(again, "accept");
      await carryOut();
      t.clock.advance(minute);
      await github(
        "pull_request",
        pull58("closed", fix, { state: "closed", merged: true, merge_commit_sha: "8b".repeat(20) }),
      );
      await t.drain();
      const [first, second] = await cards("github:pr:Codertocat/Hello-World#58");
      expect(lastCheck(second as { verification: unknown })).toEqual({
        check: "merged by the merge queue",
        status: "passed",
        detail: "merged as 8b8b8b8 into release",
        after: true,
      });
      // The first card keeps what came of it then.
      expect(lastCheck(first as { verification: unknown })?.status).toBe("failed");

      // Someone else queues one on GitHub: its card goes. The queue's checks fail and take it out:
      // proposing it again at that commit asks what was just answered — a new commit brings it back.
      const other = "4d".repeat(20);
      pulls.set(59, { ...asGitHubSays(59, other, true, "blocked"), node_id: "PR_kwDOqueue59" });
      await readyByWebhooks(59, other, "release");
      expect((await cards("github:pr:Codertocat/Hello-World#59")).map((c) => c.status)).toEqual(["pending"]);
      const at = (action: string, sha = other) => prAt(action, 59, sha, "release");
      t.clock.advance(minute);
      await github("pull_request", at("enqueued"));
      await t.drain();
      expect((await cards("github:pr:Codertocat/Hello-World#59")).map((c) => c.status)).toEqual(["expired"]);
      t.clock.advance(minute);
      await github("pull_request", { ...at("dequeued"), reason: "CI_FAILURE" });
      await t.drain();
      expect((await cards("github:pr:Codertocat/Hello-World#59")).map((c) => c.status)).toEqual(["expired"]);
      const fixed = "6e".repeat(20);
      pulls.set(59, { ...asGitHubSays(59, fixed, true, "blocked"), node_id: "PR_kwDOqueue59" });
      t.clock.advance(minute);
      await github("pull_request", at("synchronize", fixed));
      await github("check_run", check("success", fixed, 59));
      await t.drain();
      const back = (await cards("github:pr:Codertocat/Hello-World#59")).at(-1);
      expect(back?.status).toBe("pending");
      expect(back?.change).toMatchObject({ operation: "enqueue_pr", params: { number: 59, sha: fixed } });

      // Blocked where the rules Flick can read are not met (the linter the queue wants never ran):
      // GitHub's "blocked" stands, and there is no card.
      const third = "5f".repeat(20);
      pulls.set(60, { ...asGitHubSays(60, third, true, "blocked"), node_id: "PR_kwDOqueue60" });
      const at60 = prAt("opened", 60, third, "release");
      await github("pull_request", at60);
      const ci = check("success", third, 60) as Json & { check_run: Json };
      await github("check_run", { ...ci, check_run: { ...ci.check_run, name: "build" } });
      await github("pull_request_review", {
        ...(review("approved") as Json),
        pull_request: at60.pull_request,
      });
      await t.drain();
      expect(await cards("github:pr:Codertocat/Hello-World#60")).toHaveLength(0);
    });

    it("a pull request GitHub merges by itself (auto-merge on) is no card", async () => {
      const head = "1a".repeat(20);
      pulls.set(55, asGitHubSays(55, head, true, "clean"));
      await readyByWebhooks(55, head);
      expect((await cards("github:pr:Codertocat/Hello-World#55")).map((c) => c.status)).toEqual(["pending"]);
      // Someone turns auto-merge on: GitHub will merge it once it may; the card goes.
      const auto = {
        enabled_by: { login: "octocat" },
        merge_method: "squash",
        commit_title: null,
        commit_message: null,
      };
      const at = (action: string, autoMerge: Json | null) =>
        prAt(action, 55, head, "master", { auto_merge: autoMerge });
      t.clock.advance(minute);
      await github("pull_request", at("auto_merge_enabled", auto));
      await t.drain();
      expect((await cards("github:pr:Codertocat/Hello-World#55")).map((c) => c.status)).toEqual(["expired"]);
      // Off again: the merge is a person's to make, and the card comes back.
      t.clock.advance(minute);
      await github("pull_request", at("auto_merge_disabled", null));
      await t.drain();
      expect((await cards("github:pr:Codertocat/Hello-World#55")).map((c) => c.status)).toEqual([
        "expired",
        "pending",
      ]);
      // A pull request opened with auto-merge on (GitHub's answer says so too) never has one.
      const other = "2b".repeat(20);
      pulls.set(56, { ...asGitHubSays(56, other, true, "clean"), auto_merge: auto });
      await readyByWebhooks(56, other);
      expect(await cards("github:pr:Codertocat/Hello-World#56")).toHaveLength(0);
    });

    it("counts commit statuses (CI that reports the older way) as checks, green or red", async () => {
      const sha = "c".repeat(40);
      const opened = pr("opened", { number: 9, head: { sha } });
      // GitHub's "status" webhook; the fixture set has none, so the fields Flick reads are written
      // here as GitHub documents them.
      const status = (state: string, context: string) => ({
        id: 1,
        sha,
        name: "Codertocat/Hello-World",
        context,
        state,
        description: `Build ${state}`,
        target_url: "https://ci.example.com/build/1",
        branches: [],
        repository: (opened as Json).repository,
        sender: (opened as Json).sender,
      });
      const approval = review("approved");
      await github("pull_request", opened);
      await github("status", status("pending", "ci/jenkins"));
      await github("pull_request_review", { ...approval, pull_request: opened.pull_request });
      await t.drain();
      expect(await cards("github:pr:Codertocat/Hello-World#9")).toHaveLength(0);
      await github("status", status("success", "ci/jenkins"));
      await t.drain();
      const [ready] = await cards("github:pr:Codertocat/Hello-World#9");
      expect(ready?.summary).toMatch(/^1 check green on ccccccc, approved by octocat\./);
      expect(ready?.change).toMatchObject({ operation: "merge_pr", params: { number: 9, sha } });
      await github("status", status("error", "ci/lint"));
      await t.drain();
      const [gone] = await cards("github:pr:Codertocat/Hello-World#9");
      expect(gone?.status).toBe("expired");
    });
  });

  describe("security alerts", () => {
    it("a Dependabot alert proposes the upgrade as an issue; one card per package; fixed takes it back", async () => {
      const created = ghFixture("dependabot_alert/created.payload.json");
      const alert = created.alert as Json;
      const advisory = alert.security_advisory as Json;
      await github("dependabot_alert", created);
      await t.drain();
      const semver = () => cards("github:dependabot:wolfy1339/pika-pack:semver");
      const [card] = await semver();
      if (!card) throw new Error("no card for the Dependabot alert");
      expect(card.title).toBe(
        "semver < 7.5.2: vulnerable to Regular Expression Denial of Service (medium) — upgrade to 7.5.2?",
      );
      expect(card.summary).toContain("GHSA-c2qf-rxjj-qqgw, CVE-2022-25883. Fixed in 7.5.2.");
      // Preview first: what to do, then the advisory.
      expect((card.preview as { text: string } | null)?.text).toBe(
        "semver → 7.5.2\nvulnerable to Regular Expression Denial of Service · medium · GHSA-c2qf-rxjj-qqgw",
      );
      expect(card.change).toMatchObject({
        type: "github",
        operation: "create_issue",
        repository: "wolfy1339/pika-pack",
        params: { title: "Upgrade semver to 7.5.2 (GHSA-c2qf-rxjj-qqgw)", labels: ["security"] },
      });
      expect(card.priorityFactors).toMatchObject({ severity: 0.5, blastRadius: 0.6 });
      expect(card.verification).toEqual([
        { check: "a fixed version is published", status: "passed", detail: "semver 7.5.2" },
        { check: "the advisory stands", status: "passed", detail: "GHSA-c2qf-rxjj-qqgw, not withdrawn" },
      ]);
      // An advisory GitHub withdrew (the same fixture as alert #21, withdrawn_at set) changes nothing.
      await github("dependabot_alert", {
        ...created,
        alert: {
          ...alert,
          number: 21,
          security_advisory: { ...advisory, withdrawn_at: "2023-07-01T00:00:00Z" },
        },
      });
      await t.drain();
      expect((await semver()).map((c) => c.title)).toEqual([card.title]);

      // A second, worse advisory for the same package (the fixture as alert #22: another id, high,
      // fixed in 7.5.3) joins the package's card: one upgrade fixes both.
      const second = {
        ...created,
        alert: {
          ...alert,
          number: 22,
          security_advisory: { ...advisory, ghsa_id: "GHSA-xxxx-yyyy-zzzz", cve_id: null, severity: "high" },
          security_vulnerability: {
            ...(alert.security_vulnerability as Json),
            first_patched_version: { identifier: "7.5.3" },
          },
        },
      };
      await github("dependabot_alert", second);
      await t.drain();
      const [both, ...others] = await semver();
      expect(others).toHaveLength(0);
      expect(both?.title).toBe("semver: 2 vulnerabilities (worst high) — upgrade to 7.5.3?");
      expect(both?.priorityFactors.severity).toBe(0.8);
      expect(both?.change).toMatchObject({
        params: { title: "Upgrade semver to 7.5.3 (GHSA-c2qf-rxjj-qqgw, GHSA-xxxx-yyyy-zzzz)" },
      });

      // GitHub's "fixed" for each (the fixed fixture is another package's alert: its number,
      // package and repository set to these): the card goes once neither is open.
      const fixed = ghFixture("dependabot_alert/fixed.payload.json");
      const fix = (number: number) =>
        github("dependabot_alert", {
          ...fixed,
          alert: { ...(fixed.alert as Json), number, dependency: alert.dependency },
          repository: created.repository,
        });
      await fix(22);
      await t.drain();
      expect((await semver())[0]?.title).toBe(card.title);
      await fix(20);
      await t.drain();
      expect((await semver())[0]?.status).toBe("expired");
    });

    // Dependabot's pull request in the alert's repository (the pull request and check run
    // fixtures, moved there, by dependabot[bot], titled as Dependabot titles them).
    const alertFixture = () => ghFixture("dependabot_alert/created.payload.json");
    const bump = (
      title: string,
      number: number,
      extra: Json = {},
      repository = alertFixture().repository,
    ) => {
      const opened = ghFixture("pull_request/opened.payload.json");
      return {
        ...opened,
        repository,
        pull_request: {
          ...(opened.pull_request as Json),
          number,
          title,
          user: { login: "dependabot[bot]", type: "Bot" },
          head: { ...((opened.pull_request as Json).head as Json), sha: `${number}`.repeat(40).slice(0, 40) },
          ...extra,
        },
      };
    };
    const checked = (number: number, conclusion: string, repository = alertFixture().repository) => {
      const p = ghFixture("check_run/completed.payload.json");
      const c = p.check_run as Json;
      return {
        ...p,
        repository,
        check_run: {
          ...c,
          conclusion,
          head_sha: `${number}`.repeat(40).slice(0, 40),
          pull_requests: [{ ...(c.pull_requests as Json[])[0], number }],
        },
      };
    };
    const pending = async (prefix: string) => (await cards(prefix)).filter((c) => c.status === "pending");
    /** Dependabot opens a bump and its check passes. */
    const greenBump = async (
      title: string,
      number: number,
      extra: Json = {},
      repository = alertFixture().repository,
    ) => {
      await github("pull_request", bump(title, number, extra, repository));
      await github("check_run", checked(number, "success", repository));
    };

    it("a Dependabot pull request that bumps past an open alert's fix says so, ranks as the vulnerability, and is its one card", async () => {
      // The alert again (GitHub reopens it), then the bumps, their checks green.
      const alert = alertFixture();
      await github("dependabot_alert", { ...alert, action: "reopened" });
      await t.drain();
      const semver = "github:dependabot:wolfy1339/pika-pack:semver";
      const [alone] = await pending(semver);
      expect(alone?.title).toMatch(/^semver < 7\.5\.2: .* — upgrade to 7\.5\.2\?$/);
      await greenBump("Bump semver from 7.3.8 to 7.5.2", 3);
      // A bump that stops short of the fix fixes nothing.
      await greenBump("Bump semver from 7.3.8 to 7.5.1", 4);
      await t.drain();
      const [fix] = await cards("github:pr:wolfy1339/pika-pack#3");
      expect(fix?.title).toBe(
        "Merge #3: Bump semver from 7.3.8 to 7.5.2 — fixes a medium vulnerability (GHSA-c2qf-rxjj-qqgw)",
      );
      expect(fix?.summary).toContain(
        "It fixes Dependabot alert #20: semver vulnerable to Regular Expression",
      );
      expect(fix?.priorityFactors.severity).toBe(0.5);
      const [routine] = await cards("github:pr:wolfy1339/pika-pack#4");
      expect(routine?.title).toBe("Merge #4: Bump semver from 7.3.8 to 7.5.1");
      expect(routine?.priorityFactors.severity).toBe(0.3);

      // One vulnerability, one card: merging is the answer, so the alert's own card is set aside.
      expect(fix?.summary).toContain("This card stands for the semver alert card too.");
      expect(await pending(semver)).toHaveLength(0);
      const [aside] = (await cards(semver)).filter((c) => c.status === "snoozed");
      // It names the card standing for it, so a person looking at it can go there.
      expect(aside?.evidence).toMatchObject({ setAside: true, standIn: fix?.id });
      // A fix left unmerged for a week: the alert comes back on its own.
      t.clock.advance(8 * 24 * 60 * minute);
      await wakeSnoozedCards(t.database.db, t.clock.now());
      expect(await pending(semver)).toHaveLength(1);
      // Back in the feed, it still knows where its fix waits.
      expect((await pending(semver))[0]?.evidence).toMatchObject({ standIn: fix?.id });
      expect((await pending(semver))[0]?.evidence).not.toHaveProperty("setAside");
      // A person puts it off for an hour.
      const woken = (await pending(semver))[0] as typeof schema.cards.$inferSelect;
      const later = new Date(t.clock.now().getTime() + 60 * minute);
      const res = await t.request(`/api/cards/${woken.id}/decisions`, {
        cookie: admin,
        json: {
          verdict: "snooze",
          cardVersion: woken.version,
          snoozeUntil: later.toISOString(),
          idempotencyKey: randomUUID(),
        },
      });
      expect(res.status, res.text).toBe(201);
      // Closed unmerged (the closed fixture's PR: merged false): the alert has its card again — after
      // the person's hour, which the fix going away does not cut short.
      const closed = ghFixture("pull_request/closed.payload.json");
      await github("pull_request", {
        ...bump("Bump semver from 7.3.8 to 7.5.2", 3, { state: "closed", merged: false }),
        action: closed.action,
      });
      await t.drain();
      expect((await cards("github:pr:wolfy1339/pika-pack#3"))[0]?.status).toBe("expired");
      expect(await pending(semver)).toHaveLength(0);
      expect((await cards(semver)).find((c) => c.id === woken.id)).toMatchObject({
        status: "snoozed",
        snoozedUntil: later,
      });
      t.clock.advance(61 * minute);
      await wakeSnoozedCards(t.database.db, t.clock.now());
      expect((await pending(semver)).map((c) => c.title)).toEqual([alone?.title]);
    });

    it("a bump that fixes only some of a package's alerts says which stay open, and their card stays", async () => {
      // In a repository of its own: semver's advisory (fixed in 7.5.2), and a second one on semver
      // fixed only in 7.5.4 (the fixture's alert, renumbered, with another advisory).
      const repository = { ...(alertFixture().repository as Json), full_name: "acme/partial" };
      const first = alertFixture() as Json & { alert: Json };
      await github("dependabot_alert", { ...first, repository });
      const a = first.alert;
      const later = {
        ...(a.security_vulnerability as Json),
        severity: "high",
        vulnerable_version_range: "< 7.5.4",
        first_patched_version: { identifier: "7.5.4" },
      };
      await github("dependabot_alert", {
        ...first,
        repository,
        alert: {
          ...a,
          number: 21,
          security_vulnerability: later,
          security_advisory: {
            ...(a.security_advisory as Json),
            ghsa_id: "GHSA-aaaa-bbbb-cccc",
            cve_id: null,
            summary: "semver allows another denial of service",
            severity: "high",
            vulnerabilities: [later],
          },
        },
      });
      await greenBump("Bump semver from 7.3.8 to 7.5.2", 8, {}, repository);
      await t.drain();
      const [merge] = await cards("github:pr:acme/partial#8");
      expect(merge?.title).toBe(
        "Merge #8: Bump semver from 7.3.8 to 7.5.2 — fixes a medium vulnerability (GHSA-c2qf-rxjj-qqgw)",
      );
      expect(merge?.summary).toContain(
        "It leaves Dependabot alert #21 on semver open (fixed in 7.5.4), so the semver alert card stays.",
      );
      expect(merge?.summary).not.toContain("stands for");
      expect(await pending("github:dependabot:acme/partial:semver")).toHaveLength(1);
    });

    it("a grouped dependency update ready before its alert arrives becomes the alert's card", async () => {
      // Dependabot's grouped update, as it writes it (title and body), in another repository.
      const repository = { ...(alertFixture().repository as Json), full_name: "acme/grouped" };
      const { title, body } = dependabotGroup;
      await greenBump(title, 7, { body }, repository);
      await t.drain();
      const merge = async () => (await cards("github:pr:acme/grouped#7"))[0];
      expect((await merge())?.title).toBe(`Merge #7: ${title}`);
      // Then Dependabot finds semver's advisory: the waiting update is its fix, and its only card.
      await github("dependabot_alert", { ...alertFixture(), repository });
      await t.drain();
      expect((await merge())?.title).toBe(
        `Merge #7: ${title} — fixes a medium vulnerability (GHSA-c2qf-rxjj-qqgw)`,
      );
      expect((await merge())?.priorityFactors.severity).toBe(0.5);
      expect(await pending("github:dependabot:acme/grouped:")).toHaveLength(0);
      const standingFor = async () =>
        (await cards("github:dependabot:acme/grouped:")).find((c) => c.status === "snoozed")?.evidence;
      expect(await standingFor()).toMatchObject({ setAside: true, standIn: (await merge())?.id });
      // Rejecting the merge (someone will upgrade another way): the alert is not lost, its card is back.
      const offered = await merge();
      if (!offered) throw new Error("no merge card");
      const rejected = await t.request<{ decision: { id: string } }>(`/api/cards/${offered.id}/decisions`, {
        cookie: admin,
        json: { verdict: "reject", cardVersion: offered.version, idempotencyKey: randomUUID() },
      });
      expect(rejected.status).toBe(201);
      expect((await pending("github:dependabot:acme/grouped:")).map((c) => c.title)).toEqual([
        "semver < 7.5.2: vulnerable to Regular Expression Denial of Service (medium) — upgrade to 7.5.2?",
      ]);
      // Undone (a slip of the thumb): the merge card is back, the alert's card set aside again.
      const undone = await t.request(`/api/decisions/${rejected.body.decision.id}/undo`, {
        cookie: admin,
        json: {},
      });
      expect(undone.status).toBe(200);
      expect((await merge())?.status).toBe("pending");
      expect(await pending("github:dependabot:acme/grouped:")).toHaveLength(0);
      expect(await standingFor()).toMatchObject({ setAside: true, standIn: offered.id });
      // Then a check turns red: no merge to offer, so the alert is its own card again.
      await github("check_run", checked(7, "failure", repository));
      await t.drain();
      expect((await merge())?.status).toBe("expired");
      expect((await pending("github:dependabot:acme/grouped:")).map((c) => c.title)).toEqual([
        "semver < 7.5.2: vulnerable to Regular Expression Denial of Service (medium) — upgrade to 7.5.2?",
      ]);
    });

    it("a code scanning finding on the default branch is a card; one only on a feature branch is not", async () => {
      const created = ghFixture("code_scanning_alert/created.payload.json") as Json & { alert: Json };
      // The fixture's finding is on a feature branch: no card.
      await github("code_scanning_alert", created);
      await t.drain();
      expect(await cards("github:code-scanning:")).toHaveLength(0);
      // The same finding on master, the repository's default branch.
      const instances = (created.alert.instances as Json[]).map((i) => ({ ...i, ref: "refs/heads/master" }));
      await github("code_scanning_alert", { ...created, alert: { ...created.alert, instances } });
      await t.drain();
      const [card] = await cards("github:code-scanning:");
      expect(card?.title).toBe(
        "CodeQL: Query built from user-controlled sources in src/main/java/com/github/demo/service/BookService.java:84",
      );
      expect(card?.change).toMatchObject({ operation: "create_issue", repository: "Codertocat/Hello-World" });
      expect(card?.priorityFactors.severity).toBe(0.8);
      // A linter's note on master (the fixture: Rubocop's frozen_string_literal, given its own
      // alert number) is style, not a card.
      const note = ghFixture("code_scanning_alert/reopened.payload.json");
      await github("code_scanning_alert", { ...note, alert: { ...(note.alert as Json), number: 11 } });
      await t.drain();
      expect(await cards("github:code-scanning:Codertocat/Hello-World#11")).toHaveLength(0);
      await github("code_scanning_alert", ghFixture("code_scanning_alert/closed-by-user.payload.json"));
      await t.drain();
      expect((await cards("github:code-scanning:"))[0]?.status).toBe("expired");
    });

    it("a rejected package card stays quiet as its advisories repeat, but a new advisory is a card again", async () => {
      const created = ghFixture("dependabot_alert/created.payload.json");
      const alert = created.alert as Json;
      const advisory = alert.security_advisory as Json;
      // The fixture's alert on another repository, as alert `number` with advisory `ghsa`.
      const send = (number: number, ghsa: string) =>
        github("dependabot_alert", {
          ...created,
          repository: { ...(created.repository as Json), full_name: "acme/mute-check" },
          alert: { ...alert, number, security_advisory: { ...advisory, ghsa_id: ghsa, cve_id: null } },
        });
      const semver = () => cards("github:dependabot:acme/mute-check:semver");
      await send(1, "GHSA-aaaa-aaaa-aaaa");
      await t.drain();
      const [card] = await semver();
      if (!card) throw new Error("no card for the Dependabot alert");
      await decide(card, "reject");
      // The same advisory again (reopened by GitHub): the same proposal, quiet.
      t.clock.advance(minute);
      await send(1, "GHSA-aaaa-aaaa-aaaa");
      await t.drain();
      expect((await semver()).map((c) => c.status)).toEqual(["rejected"]);
      // Another advisory for the package: not what was rejected.
      t.clock.advance(minute);
      await send(2, "GHSA-bbbb-bbbb-bbbb");
      await t.drain();
      const [, again] = await semver();
      expect(again?.status).toBe("pending");
      expect(again?.summary).toContain(
        "Its card was rejected with GHSA-aaaa-aaaa-aaaa; GHSA-bbbb-bbbb-bbbb is new, so it is here despite the mute.",
      );
    });
  });

  describe("feedback clusters", () => {
    const asks = CSV_EXPORT_ASKS;

    it("clusters near-duplicate requests into one card with quotes; noise makes none", async () => {
      const noise = ["Great app, love it", "Best watch ever!", "5 stars", "ok", "Nice design and colours"];
      await t.request(`/ingest/${feedback.id}`, {
        json: [...noise, ...asks].map((text, i) => ({ id: `f${i}`, text, rating: 4 })),
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}` },
      });
      await t.drain();
      const found = await cards("feedback:cluster:");
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      expect(card.title).toMatch(/^[45] customers asked for ".*(csv|export|workout).*" this week$/);
      // The preview quotes the customers; the summary does not quote them again.
      expect((card.preview as { text: string }).text).toContain("“");
      expect(card.summary).toMatch(
        /^[45] this week, [45] in all since [A-Z][a-z]{2} \d{1,2}\. Accept opens an issue in acme\/app quoting the [45] latest\.$/,
      );
      // A handful of customers asking for a feature is worth less than a production error.
      expect(card.priorityFactors).toMatchObject({ severity: 0.3 });
      expect(card.priorityFactors.confidence).toBeLessThanOrEqual(0.6);
      expect(card.change).toMatchObject({
        type: "github",
        operation: "create_issue",
        repository: "acme/app",
      });
    });

    it("a rejected cluster stays quiet as a few more ask, but comes back when it grows far past that", async () => {
      const more = async (n: number, tag: string) => {
        await t.request(`/ingest/${feedback.id}`, {
          json: Array.from({ length: n }, (_, i) => ({
            id: `${tag}${i}`,
            text: asks[i % asks.length],
            rating: 4,
          })),
          origin: null,
          headers: { authorization: `Bearer ${feedback.secret}` },
        });
        await t.drain();
      };
      const [card] = await cards("feedback:cluster:");
      if (!card) throw new Error("no cluster card");
      const rejectedAt = Number((card.evidence as { facts: { thisWeek: number } }).facts.thisWeek);
      await decide(card, "reject");
      await more(3, "g");
      expect((await cards("feedback:cluster:")).map((c) => c.status)).toEqual(["rejected"]);
      await more(14, "h");
      const again = (await cards("feedback:cluster:")).filter((c) => c.status === "pending");
      expect(again.map((c) => c.fingerprint)).toEqual([card.fingerprint]);
      expect(again[0]?.summary).toContain(
        `Its card was rejected when ${rejectedAt} customers had asked in a week; now ${rejectedAt + 17} have, so it is here despite the mute.`,
      );
      expect(again[0]?.title).toMatch(new RegExp(`^${rejectedAt + 17} customers asked for`));

      // The card that came back keeps counting while the fingerprint is still muted.
      await more(2, "k");
      const [grown, ...others] = (await cards("feedback:cluster:")).filter((c) => c.status === "pending");
      expect(others).toHaveLength(0);
      expect(grown?.title).toMatch(new RegExp(`^${rejectedAt + 19} customers asked for`));
      expect(grown?.summary).toContain("so it is here despite the mute.");
    });

    it("an issue Flick opened for a cluster is told of as many new customers again, in their words", async () => {
      const source = await t.createSource(
        admin,
        "feedback",
        { clusterThreshold: 4, repository: "acme/app" },
        "Feedback (issue follow-up)",
      );
      const send = async (items: { author: string; text: string }[]) => {
        const res = await t.request(`/ingest/${source.id}`, {
          json: items.map((i) => ({ ...i, id: randomUUID(), rating: 4 })),
          origin: null,
          headers: { authorization: `Bearer ${source.secret}` },
        });
        expect(res.status, res.text).toBe(202);
        await t.drain();
      };
      const ask = (author: string, i: number) => ({ author, text: asks[i % asks.length] as string });
      const mine = () => cards(`feedback:more:${source.id}:`);
      await send(["ann", "bob", "cy", "dee", "eve"].map(ask));
      const [first] = await cards(`feedback:cluster:${source.id}:`);
      if (!first) throw new Error("no cluster card");
      await decide(first, "accept");
      await carryOut();
      const opened = githubApi.requests.filter((r) => r.path === "/repos/acme/app/issues");
      expect(opened).toHaveLength(1);
      // Three new customers, and one who asked before writing again: not yet as many as a card takes.
      t.clock.advance(60 * minute);
      await send([ask("fay", 0), ask("gus", 1), ask("hal", 2), ask("ann", 3)]);
      expect(await mine()).toHaveLength(0);
      // A fourth new one: the issue's card.
      t.clock.advance(60 * minute);
      await send([ask("ivy", 4)]);
      const card = await onlyCard(`feedback:more:${source.id}:`);
      expect(card.title).toMatch(
        /^4 customers asked for ".*" since Flick opened #45 — add their words to it\?$/,
      );
      expect(card.summary).toContain("Accept adds them to acme/app#45 as a comment");
      expect((card.evidence as { links: unknown }).links).toEqual([
        { label: "#45", url: "https://github.com/acme/app/issues/45" },
      ]);
      // GitHub was asked where the issue stands.
      expect(card.verification).toEqual([
        { check: "acme/app#45 on GitHub", status: "passed", detail: "open" },
      ]);
      expect(card.change).toMatchObject({
        type: "github",
        operation: "comment",
        repository: "acme/app",
        params: { number: 45 },
      });
      const body = String((card.change as { params: { body: string } }).params.body);
      expect(body).toMatch(/^4 more customers asked since /);
      expect(body).toContain(`> ${asks[4]}`);
      // ann asked before the issue: her words are not among the new ones.
      expect(body).not.toContain(`> ${asks[3]}`);
      // Accepted: the comment is posted, and the count starts again from it.
      await decide(card, "accept");
      await carryOut();
      const comment = githubApi.requests.filter((r) => r.path === "/repos/acme/app/issues/45/comments");
      expect(comment).toHaveLength(1);
      expect(JSON.parse(comment[0]?.body ?? "{}").body).toBe(body);
      t.clock.advance(60 * minute);
      await send([ask("jo", 0), ask("kim", 1), ask("fay", 2)]);
      expect((await mine()).map((c) => c.status)).toEqual(["applied"]);
      t.clock.advance(60 * minute);
      await send([ask("lu", 3), ask("max", 4)]);
      const [, again] = await mine();
      expect(again?.status).toBe("pending");
      expect(again?.title).toMatch(
        /^4 customers asked for ".*" since Flick last added to #45 — add their words to it\?$/,
      );

      // The team closes #45 as done (say, CSV export shipped) while that card waits: what it asked is
      // answered, and GitHub's "issues" webhook saying so takes the card back at once.
      issue45 = { state: "closed", state_reason: "completed", closed_at: t.clock.now().toISOString() };
      const closedEvent = ghFixture("issues/reopened.payload.json") as Json & {
        issue: Json;
        repository: Json;
      };
      await github("issues", {
        ...closedEvent,
        action: "closed",
        issue: { ...closedEvent.issue, number: 45, ...issue45 },
        repository: { ...closedEvent.repository, full_name: "acme/app" },
      });
      await t.drain();
      expect((await mine()).map((c) => c.status)).toEqual(["applied", "expired"]);
      t.clock.advance(60 * minute);
      await send([ask("ned", 0)]);
      expect((await mine()).map((c) => c.status)).toEqual(["applied", "expired"]);
      // Three more after the close: with ned, as many as make a card — the issue is proposed for
      // reopening with their words (those who asked before it was closed are what it answered).
      t.clock.advance(60 * minute);
      await send([ask("oz", 1), ask("pat", 2), ask("lu", 3), ask("quinn", 4)]);
      const reopen = (await mine()).at(-1);
      if (!reopen) throw new Error("no reopen card");
      expect(reopen.status).toBe("pending");
      expect(reopen.title).toMatch(
        /^4 customers asked for ".*" since #45 was closed as done on .+ — reopen it with their words\?$/,
      );
      expect(reopen.summary).toContain("Accept reopens it with their words as a comment");
      expect(reopen.verification).toEqual([
        {
          check: "acme/app#45 on GitHub",
          status: "passed",
          detail: expect.stringMatching(/^closed as done on /),
        },
      ]);
      expect(reopen.change).toMatchObject({
        type: "github",
        operation: "reopen_issue",
        repository: "acme/app",
        params: { number: 45 },
      });
      const reopenBody = String((reopen.change as { params: { body: string } }).params.body);
      expect(reopenBody).toMatch(/^Reopened by Flick: 4 customers asked since it was closed as done on /);
      expect(reopenBody).toContain(`> ${asks[4]}`);
      // lu asked before the close: not among them.
      expect(reopenBody).not.toContain(`> ${asks[3]}`);
      await decide(reopen, "accept");
      await carryOut();
      expect(
        githubApi.requests.filter((r) => r.method === "PATCH" && r.path === "/repos/acme/app/issues/45"),
      ).toHaveLength(1);
      expect(issue45.state).toBe("open");

      // Then closed as not planned: the team decided, and however many ask, no card asks again.
      issue45 = { state: "closed", state_reason: "not_planned", closed_at: t.clock.now().toISOString() };
      t.clock.advance(60 * minute);
      await send(["rae", "sam", "tia", "uma", "vic", "wes"].map(ask));
      expect((await mine()).map((c) => c.status)).toEqual(["applied", "expired", "applied"]);
      // GitHub said so: within the hour it is not asked again at each customer's message.
      const asked = () =>
        githubApi.requests.filter((r) => r.method === "GET" && r.path === "/repos/acme/app/issues/45").length;
      const before = asked();
      for (const who of ["xan", "yul"]) {
        t.clock.advance(10 * minute);
        await send([ask(who, 2)]);
      }
      expect(asked()).toBe(before);
      expect((await mine()).map((c) => c.status)).toEqual(["applied", "expired", "applied"]);
      // Reopened on GitHub with no webhook telling Flick: asked again once the hour is over, the
      // customers since the reopen are proposed as a comment.
      issue45 = { state: "open", state_reason: null, closed_at: null };
      t.clock.advance(45 * minute);
      await send([ask("zed", 3)]);
      expect(asked()).toBe(before + 1);
      expect((await mine()).at(-1)?.title).toMatch(
        /^9 customers asked for ".*" since Flick last added to #45 — add their words to it\?$/,
      );
      // Closed as not planned again, its webhook takes the card back; reopened, GitHub's webhook says
      // so: the next customer's message asks GitHub at once, within the hour, and the card is back.
      const issueEvent = async (action: string) =>
        github("issues", {
          ...closedEvent,
          action,
          issue: { ...closedEvent.issue, number: 45, ...issue45 },
          repository: { ...closedEvent.repository, full_name: "acme/app" },
        });
      issue45 = { state: "closed", state_reason: "not_planned", closed_at: t.clock.now().toISOString() };
      await issueEvent("closed");
      await t.drain();
      expect((await mine()).at(-1)?.status).toBe("expired");
      t.clock.advance(10 * minute);
      issue45 = { state: "open", state_reason: "reopened", closed_at: null };
      await issueEvent("reopened");
      await t.drain();
      const heard = asked();
      t.clock.advance(5 * minute);
      await send([ask("abe", 4)]);
      expect(asked()).toBe(heard + 1);
      expect((await mine()).at(-1)).toMatchObject({
        status: "pending",
        title: expect.stringMatching(/^10 customers asked for ".*" since Flick last added to #45/),
      });
    });

    it("customers asking for what an open issue is about already are a comment on it, not a second issue", async () => {
      const source = await t.createSource(
        admin,
        "feedback",
        { clusterThreshold: 4, repository: "acme/wiki" },
        "Feedback (issue there already)",
      );
      const send = async (authors: string[]) => {
        const res = await t.request(`/ingest/${source.id}`, {
          json: authors.map((author, i) => ({
            id: randomUUID(),
            author,
            text: asks[i % asks.length],
            rating: 4,
          })),
          origin: null,
          headers: { authorization: `Bearer ${source.secret}` },
        });
        expect(res.status, res.text).toBe(202);
        await t.drain();
      };
      await send(["ana", "ben", "cid", "dot", "eli"]);
      const card = await onlyCard(`feedback:cluster:${source.id}:`);
      // GitHub was searched for the topic's words in open issues' titles: #31 has them all (#32
      // only one, #30 is a pull request, #29 a bug report where these customers ask for a feature —
      // as its label says, and #28's title reads as one, unlabelled; #27 has them, but its other
      // words — Strava, Garmin, Connect — are none of these customers').
      const searched = githubApi.requests.filter((r) => r.path.startsWith("/search/issues?"));
      expect(new URL(searched.at(-1)?.path ?? "", "http://x").searchParams.get("q")).toBe(
        "export workouts repo:acme/wiki is:issue is:open in:title",
      );
      expect(card.title).toBe('5 customers asked for "export workouts" this week — add their words to #31?');
      expect(card.summary).toContain(
        '#31 "Export workouts as CSV or GPX" is open on it already: accept adds their words to it as a comment (quoting the 5 latest) instead of opening another.',
      );
      expect(card.verification).toEqual([
        {
          check: 'an open issue on "export workouts" in acme/wiki',
          status: "passed",
          detail: '#31 "Export workouts as CSV or GPX"',
        },
      ]);
      expect(card.change).toMatchObject({
        type: "github",
        operation: "comment",
        repository: "acme/wiki",
        params: { number: 31 },
      });
      expect((card.evidence as { links: unknown }).links).toEqual([
        { label: "#31", url: "https://github.com/acme/wiki/issues/31" },
      ]);
      const body = String((card.change as { params: { body: string } }).params.body);
      expect(body).toMatch(/^5 customers this week \(5 in all\)\.\n\n> /);
      await decide(card, "accept");
      await carryOut();
      const comments = githubApi.requests.filter((r) => r.path === "/repos/acme/wiki/issues/31/comments");
      expect(comments).toHaveLength(1);
      expect(JSON.parse(comments[0]?.body ?? "{}").body).toBe(body);
      expect(githubApi.requests.filter((r) => r.path === "/repos/acme/wiki/issues")).toHaveLength(0);
      // As many new customers again: the issue is told of them, as one Flick opened would be.
      t.clock.advance(60 * minute);
      await send(["fin", "gil", "hen", "ida"]);
      const more = await onlyCard(`feedback:more:${source.id}:`);
      expect(more.title).toMatch(
        /^4 customers asked for "export workouts" since Flick last added to #31 — add their words to it\?$/,
      );
      expect(more.change).toMatchObject({
        operation: "comment",
        repository: "acme/wiki",
        params: { number: 31 },
      });
    });

    it("counts customers, not messages: one person writing again and again is one voice", async () => {
      const send = async (items: { id: string; text: string; author?: string }[]) => {
        await t.request(`/ingest/${feedback.id}`, {
          json: items.map((i) => ({ ...i, rating: 2 })),
          origin: null,
          headers: { authorization: `Bearer ${feedback.secret}` },
        });
        await t.drain();
      };
      const darkMode = () =>
        cards("feedback:cluster:").then((all) => all.filter((c) => /dark/.test(c.title)));
      // One customer asks five times (the source's threshold is 4), once more in other case.
      await send(
        [
          "Please add a dark mode for the night",
          "Still waiting for a dark mode, please add it",
          "Please add dark mode!!",
          "Dark mode please, add it already",
          "please add a dark mode",
        ].map((text, i) => ({
          id: `dm-sam-${i}`,
          text,
          author: i === 4 ? " SAM@example.com" : "sam@example.com",
        })),
      );
      expect(await darkMode()).toHaveLength(0);

      // Three more customers: four voices, eight messages.
      await send([
        { id: "dm-ann", text: "Would love a dark mode for night use", author: "ann@example.com" },
        { id: "dm-bob", text: "Please add a dark mode theme", author: "bob@example.com" },
        { id: "dm-cy", text: "I wish there was a dark mode", author: "cy@example.com" },
      ]);
      const [card, ...more] = await darkMode();
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no dark mode card");
      expect(card.title).toMatch(/^4 customers asked for ".*dark.*" this week$/);
      expect(card.summary).toMatch(
        /^4 customers this week in 8 messages \(one who wrote again counts once\), 8 messages in all since /,
      );
      // Quoted once each, Sam by the latest words.
      const quotes = (card.preview as { text: string }).text.split("\n\n");
      expect(quotes).toHaveLength(3);
      const body = (card.change as { params: { body: string } }).params.body;
      expect(body).toMatch(/^4 customers this week, in 8 messages \(8 in all\)\./);
      expect(body.match(/^> /gm)).toHaveLength(4);
      expect(body).toContain("> please add a dark mode");
      expect(body).not.toContain("Dark mode please, add it already");
    });

    it("counts problems told in words no rule knows: the text model reads them", async () => {
      // Real reviews (Mini-BAR) with none of the rules' words ("crash", "won't", "please add"…): the
      // rules alone dropped each as noise, so the sync trouble they tell made no card.
      const reviews = [
        "Sync is too unreliable",
        "Sync is terrible",
        "Its says sync but my data doesnt capture in my smartphone",
        "Latest update has resulted in not being able to sync watch to phone",
      ];
      const res = await t.request(`/ingest/${feedback.id}`, {
        json: reviews.map((text, i) => ({ id: `model-${i}`, text, rating: 2, author: `sync-${i}` })),
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}` },
      });
      expect(res.status, res.text).toBe(202);
      await t.drain();
      const found = (await cards("feedback:cluster:")).filter((c) => /sync/i.test(c.title));
      expect(found.map((c) => c.title)).toEqual([
        expect.stringMatching(/^4 customers report a problem with "sync/),
      ]);
    });
  });

  it("never writes the GitHub token or a source secret into the log", () => {
    expect(t.logs.text.length).toBeGreaterThan(0);
    for (const secret of ["ghp_test", gh.secret, metrics.secret, sentry.secret, feedback.secret])
      expect(t.logs.text).not.toContain(secret);
  });

  describe("the correlator", () => {
    it("a deploy's rollback card keeps counting its new error as the events come, batch by batch", async () => {
      // A live worker reads Sentry's events as they arrive, one batch each: the card opened by the
      // first must tell the seventh, not stay at ×1.
      await deploy("c", "d");
      await t.drain();
      for (let i = 0; i < 7; i++) {
        t.clock.advance(minute);
        await sentryEvent({
          ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
          fingerprint: ["crash-counted-after-deploy"],
          timestamp: t.clock.now().toISOString(),
          user: { id: `buyer-${i}` },
        });
        await t.drain();
      }
      const found = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("d".repeat(40)));
      expect(found.map((c) => c.title)).toEqual([
        expect.stringMatching(/^New \w+ ×7 \(7 users\) 1 min after push ddddddd.* — roll back\?$/),
      ]);
      expect(found[0]?.summary).toMatch(/^- new error ".+" ×7 \(7 users\)$/m);
      expect((found[0]?.evidence as { signalIds?: string[] } | undefined)?.signalIds).toHaveLength(8);
    });

    it("a deploy followed by a new error and a metric drop becomes ONE rollback card with all three", async () => {
      const deployAt = t.clock.now().getTime();
      const repo = ghFixture("push/with-new-branch.payload.json").repository as Json;
      // A Sentry error event, now, in its own group.
      const crash = (fingerprint: string) =>
        sentryEvent({
          ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
          fingerprint: [fingerprint],
          timestamp: t.clock.now().toISOString(),
        });
      await deploy("1", "2");
      // A steady metric for the two days before it.
      const base = deployAt - 2 * 24 * 60 * minute;
      const steady = Array.from({ length: 576 }, (_, i) => ({
        name: "checkout_success",
        ts: new Date(base + i * 5 * minute).toISOString(),
        value: 98 + Math.sin(i / 7),
      }));
      await points(metrics, steady);
      await t.drain();
      // Then, in one batch (so each agent proposes its part without seeing the other's), a new
      // error 3 minutes after the deploy and a drop 5 minutes after it.
      t.clock.advance(3 * minute);
      await crash("checkout-crash-after-deploy");
      await points(metrics, [
        { name: "checkout_success", ts: new Date(deployAt + 5 * minute).toISOString(), value: 40 },
      ]);
      await t.drain();
      // One card for this push (an earlier test's push has its own).
      const found = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("2".repeat(40)));
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      expect(card.title).toMatch(
        /^New \w+ ×\d+( \(\d+ users?\))? and checkout_success dropped \d+% 3 min after push 2222222.* — roll back\?$/,
      );
      // The title says each in a few words; the summary says them whole, with the times.
      expect(card.summary).toMatch(/^- new error ".+" ×\d+/m);
      expect(card.summary).toMatch(/^- checkout_success dropped \d+% at \d\d:\d\d UTC$/m);
      // No "rollback" action is set up here: the card proposes reverting the pushed commit.
      expect(card.change).toMatchObject({
        type: "github",
        operation: "revert_commit",
        params: { sha: "2".repeat(40), branch: repo.default_branch },
      });
      expect(card.summary).toMatch(
        /Accept opens a pull request reverting 2222222 on \w+ \(no \*\*rollback\*\* action is set up\)\.$/,
      );
      const ev = card.evidence as { signalIds: string[] };
      const kinds = await t.database.db
        .select({ kind: schema.signals.kind })
        .from(schema.signals)
        .where(and(eq(schema.signals.id, ev.signalIds[0] as string)));
      expect(kinds[0]?.kind).toBe("github.push");
      expect(ev.signalIds.length).toBeGreaterThanOrEqual(3);
      // Both agents wrote it: the feed narrowed to either one shows it.
      expect((card.evidence as { agents?: string[] }).agents?.sort()).toEqual(["errors", "metrics"]);
      for (const agent of ["errors", "metrics"]) {
        const narrowed = await t.request<{ cards: { id: string }[] }>(`/api/feed?agent=${agent}&limit=100`, {
          cookie: admin,
        });
        expect(narrowed.body.cards.map((c) => c.id)).toContain(card.id);
      }
      // Ranked as the whole story, whichever agent wrote last: two kinds of trouble after one
      // deploy is the worst case, with the blast of the metric's part.
      expect(card.priorityFactors).toMatchObject({ severity: 1, confidence: 0.9 });
      expect(card.priorityFactors.blastRadius).toBeGreaterThanOrEqual(0.5);
      expect(card.priority).toBeGreaterThan(0.75);
      // Its chart draws both troubles (each agent wrote its part in the same batch): one large,
      // the other small below it, the stretch since the deploy shaded on each that reaches back.
      const preview = card.preview as {
        label: string;
        points: [number, number][];
        span?: [number, number];
        charts?: { label: string }[];
      };
      const labels = [preview.label, ...(preview.charts ?? []).map((c) => c.label)];
      expect(labels).toHaveLength(2);
      expect(labels).toEqual(
        expect.arrayContaining(["checkout_success", expect.stringMatching(/^\w+ events \/ 10 min$/)]),
      );
      if (preview.label === "checkout_success") {
        // From the last point before the deploy (the deploy came after it) to the drop.
        const [from = 0] = preview.span ?? [];
        expect(preview.points[from]?.[0]).toBeLessThan(deployAt);
        expect(preview.points[from + 1]?.[0]).toBeGreaterThanOrEqual(deployAt);
        // Two hours of the usual before it, not the two days the metric has: the minutes since
        // the deploy are a fifth of the chart, not a hairline at its edge.
        expect(preview.points[0]?.[0]).toBeGreaterThanOrEqual(deployAt - 2 * 60 * minute);
        expect(from).toBeGreaterThanOrEqual(12);
      }
      // No separate error card or metric card for the same trouble.
      expect(await cards("metric:checkout_success")).toHaveLength(0);
      expect(await cards("sentry:fp:")).toHaveLength(0);

      // Prometheus' own alert on the drop fires minutes later (the Alertmanager fixture's
      // notification moved onto checkout_success, with the generatorURL it links back with): the
      // same trouble, so the rollback card says it and the alert's card waits behind it.
      const alerts = await t.createSource(admin, "alertmanager");
      t.clock.advance(5 * minute);
      await alertmanager(alerts, '{}:{alertname="CheckoutSuccessLow"}', [
        {
          labels: { alertname: "CheckoutSuccessLow", severity: "page" },
          summary: "Checkout success rate is low",
          expr: "checkout_success < 0.9",
        },
      ]);
      const [told] = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("2".repeat(40)));
      expect(told?.summary).toContain("Alertmanager is firing CheckoutSuccessLow on it too.");
      const paging = (await cards("alert:")).filter((c) => c.title.includes("CheckoutSuccessLow"));
      expect(paging.map((c) => c.status)).toEqual(["snoozed"]);
      expect(paging[0]?.evidence).toMatchObject({ setAside: true, standIn: told?.id });

      // Once an admin sets up the team's "rollback" action, the next deploy's card proposes it.
      const made = await t.request("/api/actions", {
        cookie: admin,
        json: { name: "rollback", url: "https://deploy.example.com/rollback" },
      });
      expect(made.status, made.text).toBe(201);
      t.clock.advance(60 * minute);
      await deploy("2", "3");
      await t.drain();
      t.clock.advance(2 * minute);
      await crash("checkout-crash-after-second-deploy");
      await t.drain();
      const [second] = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("3".repeat(40)));
      expect(second?.change).toMatchObject({
        type: "webhook",
        action: "rollback",
        params: { to: "2".repeat(40) },
      });
    });

    /** Two days of a steady series (five-minute points) ending just before `deployAt`. */
    const steadyBefore =
      (deployAt: number) => (name: string, labels: Record<string, string>, level: number) =>
        Array.from({ length: 576 }, (_, i) => ({
          name,
          labels,
          ts: new Date(deployAt - 2 * 24 * 60 * minute + i * 5 * minute).toISOString(),
          value: level + Math.sin(i / 7),
        }));

    /**
     * From the next morning: two steady days of `name` at 98 before `start`; `send(from, values)` sends
     * its points `from` five-minute steps after `start` on (the clock following) and returns its one card.
     */
    const steadyFromMorning = async (name: string) => {
      toMorning();
      const start = t.clock.now().getTime();
      const at = (k: number) => new Date(start + k * 5 * minute).toISOString();
      const send = async (from: number, values: number[]) => {
        t.clock.advance(values.length * 5 * minute);
        await points(
          metrics,
          values.map((value, i) => ({ name, labels: {}, ts: at(from + i), value })),
        );
        await t.drain();
        const [card, ...more] = await cards(`metric:${name}`);
        expect(more).toHaveLength(0);
        return card as typeof schema.cards.$inferSelect;
      };
      await points(metrics, steadyBefore(start)(name, {}, 98));
      await t.drain();
      return { start, at, send };
    };

    it("a metric card the team accepted, its series back: the same break later is told again, one they rejected is not", async () => {
      /** Two days of `name` steady at 98, then a drop to 30: its own card (no deploy near it). */
      const breakOf = async (name: string) => {
        t.clock.advance(2 * 60 * minute);
        const start = t.clock.now().getTime();
        await points(metrics, steadyBefore(start)(name, {}, 98));
        await t.drain();
        await points(metrics, [{ name, labels: {}, ts: new Date(start).toISOString(), value: 30 }]);
        await t.drain();
        const [card] = await cards(`metric:${name}`);
        if (!card) throw new Error(`no card for ${name}`);
        return { card, start };
      };
      /** An hour back at 98, then the same drop to 30. */
      const again = async (name: string, start: number) => {
        const at = (k: number) => new Date(start + k * 5 * minute).toISOString();
        t.clock.advance(14 * 5 * minute);
        await points(
          metrics,
          Array.from({ length: 12 }, (_, i) => ({
            name,
            labels: {},
            ts: at(1 + i),
            value: 98 + Math.sin(i / 7),
          })),
        );
        await t.drain();
        await points(metrics, [{ name, labels: {}, ts: at(13), value: 30 }]);
        await t.drain();
        return cards(`metric:${name}`);
      };
      const accepted = await breakOf("refunds_ok");
      expect(accepted.card.title).toMatch(/^refunds_ok dropped \d+%/);
      await decide(accepted.card, "accept");
      await carryOut();
      const told = await again("refunds_ok", accepted.start);
      expect(told).toHaveLength(2);
      expect(told[1]).toMatchObject({
        status: "pending",
        title: expect.stringMatching(/^refunds_ok dropped \d+%/),
      });
      // Rejected: the team said it is not trouble — it stays familiar (and muted).
      const rejected = await breakOf("coupons_ok");
      await decide(rejected.card, "reject");
      expect(await again("coupons_ok", rejected.start)).toHaveLength(1);
    });

    it("a break that is over ends the quiet after its alarm: a new, deeper break soon after is told", async () => {
      toMorning();
      const start = t.clock.now().getTime();
      const at = (k: number) => new Date(start + k * 5 * minute).toISOString();
      await points(metrics, steadyBefore(start)("transfers_ok", {}, 98));
      await t.drain();
      await points(metrics, [{ name: "transfers_ok", labels: {}, ts: at(0), value: 30 }]);
      await t.drain();
      const [first] = await cards("metric:transfers_ok");
      expect(first?.title).toMatch(/^transfers_ok dropped 69%/);
      // Back at 98 for 40 points (3 h 20 min at five minutes a point): the way back is no card.
      t.clock.advance(41 * 5 * minute);
      await points(
        metrics,
        Array.from({ length: 40 }, (_, i) => ({
          name: "transfers_ok",
          labels: {},
          ts: at(1 + i),
          value: 98 + Math.sin(i / 7),
        })),
      );
      await t.drain();
      // The card, undecided, says it came back by itself, and ranks below what it did.
      const [back, ...others] = await cards("metric:transfers_ok");
      expect(others).toHaveLength(0);
      expect(back?.status).toBe("pending");
      expect(back?.title).toBe(
        `${first?.title}, back since ${new Date(start + 5 * minute).toISOString().slice(11, 16)} UTC`,
      );
      expect(back?.priority).toBeLessThan(first?.priority as number);
      expect((back?.evidence as { facts: Record<string, unknown> } | undefined)?.facts).toMatchObject({
        backSince: new Date(start + 5 * minute).toISOString(),
        metric: "transfers_ok",
      });
      // Its chart goes on to the way back, the break still marked.
      const chart = back?.preview as { points: [number, number][]; marks: number[] } | undefined;
      expect(chart?.points.at(-1)?.[0]).toBe(start + 40 * 5 * minute);
      expect(chart?.points[chart.marks[0] as number]).toEqual([start, 30]);
      const severity = (c: typeof first) =>
        (c?.priorityFactors as { severity?: number } | undefined)?.severity;
      expect(severity(back)).toBeCloseTo((severity(first) ?? 0) / 2);
      // Then a far deeper drop, 41 points after the first alarm — inside its 150-point rest, which
      // damped it to a third before: the card, still open, tells it.
      await points(metrics, [{ name: "transfers_ok", labels: {}, ts: at(41), value: 5 }]);
      await t.drain();
      const [now, ...more] = await cards("metric:transfers_ok");
      expect(more).toHaveLength(0);
      expect(now?.title).toMatch(/^transfers_ok dropped 9\d%/);
    });

    it("a card that said its series came back says when it broke again, and when it came back again", async () => {
      const { start, at, send } = await steadyFromMorning("settlements_ok");
      const first = await send(0, [30]);
      expect(first.title).toMatch(/^settlements_ok dropped 69% at \d\d:\d\d UTC$/);
      const steady = (n: number) => Array.from({ length: n }, (_, i) => 98 + Math.sin(i / 7));
      const back = await send(1, steady(40));
      expect(back.title).toBe(`${first.title}, back since ${at(1).slice(11, 16)} UTC`);
      // Two points nearer the break's level than the usual one, then back: no news.
      expect((await send(41, [60, 58, ...steady(3)])).title).toBe(back.title);
      // Down at the break's level again (the detector finds the drop familiar by now): the card says
      // so at once, and ranks as it first did.
      const again = await send(46, [31]);
      expect(again.status).toBe("pending");
      expect(again.title).toBe(`${first.title}, again since ${at(46).slice(11, 16)} UTC`);
      expect(again.priority).toBeGreaterThan(back.priority);
      expect(again.priority).toBeCloseTo(first.priority, 1);
      const facts = (again.evidence as { facts: Record<string, unknown> }).facts;
      expect(facts).toMatchObject({ metric: "settlements_ok", againSince: at(46) });
      expect(facts.backSince).toBeUndefined();
      // Its chart marks both breaks.
      const chart = again.preview as { points: [number, number][]; marks: number[] };
      expect(chart.marks.map((m) => chart.points[m])).toEqual([
        [start, 30],
        [start + 46 * 5 * minute, 31],
      ]);
      // Three points nearer it in a row do too, as the next way back does.
      expect((await send(47, steady(10))).title).toBe(
        `${first.title}, back since ${at(47).slice(11, 16)} UTC`,
      );
      expect((await send(57, [55, 57, 56])).title).toBe(
        `${first.title}, again since ${at(57).slice(11, 16)} UTC`,
      );
    });

    it("a far larger break within the quiet after a small one is told on its card", async () => {
      const { start, at, send } = await steadyFromMorning("remittances_ok");
      // Just above anything the series did: a card, in values — a few percent is no drop or rise.
      const first = await send(0, [100.5, 98, 98.4]);
      expect(first.title).toMatch(
        /^remittances_ok broke from its usual pattern at \d\d:\d\d UTC \(101, about 9\d/,
      );
      // Ten minutes later, inside the quiet after that alarm, it drops to 30 and stays there.
      const worse = await send(3, [30, 29.5, 30.5, 30]);
      expect(worse.title).toBe(`remittances_ok dropped 69% at ${at(3).slice(11, 16)} UTC`);
      expect(worse.version).toBeGreaterThan(first.version);
      const severity = (c: typeof first) => (c.priorityFactors as { severity: number }).severity;
      expect(severity(worse)).toBeGreaterThan(severity(first));
      const chart = worse.preview as { points: [number, number][]; marks: number[] };
      expect(chart.points[chart.marks[0] as number]).toEqual([start + 3 * 5 * minute, 30]);
      // Still down: no news, the card stays as it is.
      const still = await send(7, [30, 29.8, 30.2, 30.1, 29.9]);
      expect(still.title).toBe(worse.title);
    });

    it("a break that goes on deepening slowly within the quiet after it is told on its card", async () => {
      const { start, at, send } = await steadyFromMorning("clearings_ok");
      const first = await send(0, [88]);
      expect(first.title).toMatch(/^clearings_ok dropped 10% at \d\d:\d\d UTC$/);
      // Then it slides on, two a step (the last points' median following it down): no one point
      // surprises as the first did, but it is soon twice as far down.
      const slide = Array.from({ length: 14 }, (_, i) => 86 - 2 * i);
      const deeper = await send(1, slide);
      // Told at the third point in a row at least twice as far below yesterday's level as the first.
      expect(deeper.title).toBe(`clearings_ok dropped 26% at ${at(8).slice(11, 16)} UTC`);
      expect(deeper.version).toBeGreaterThan(first.version);
      const chart = deeper.preview as { points: [number, number][]; marks: number[] };
      expect(chart.points[chart.marks[0] as number]).toEqual([start + 8 * 5 * minute, 72]);
      // Level there: no news.
      expect((await send(15, [60, 60.5, 59.8, 60.2])).title).toBe(deeper.title);
    });

    it("a slowly deepening break of a series younger than a day is measured from where it was before", async () => {
      toMorning();
      const start = t.clock.now().getTime();
      const at = (k: number) => new Date(start + k * minute).toISOString();
      // Seven hours of a steady series a minute apart: no yesterday to compare with.
      await points(
        metrics,
        Array.from({ length: 420 }, (_, i) => ({
          name: "ledgers_ok",
          labels: {},
          ts: new Date(start - (420 - i) * minute).toISOString(),
          value: 98 + Math.sin(i / 7),
        })),
      );
      await t.drain();
      const send = async (from: number, values: number[]) => {
        t.clock.advance(values.length * minute);
        await points(
          metrics,
          values.map((value, i) => ({ name: "ledgers_ok", labels: {}, ts: at(from + i), value })),
        );
        await t.drain();
        const [card, ...more] = await cards("metric:ledgers_ok");
        expect(more).toHaveLength(0);
        return card as typeof schema.cards.$inferSelect;
      };
      const first = await send(0, [88]);
      expect(first.title).toMatch(/^ledgers_ok dropped 1[01]% at \d\d:\d\d UTC$/);
      // Half a point a minute down for an hour: the last points' median follows it all the way.
      const deeper = await send(
        1,
        Array.from({ length: 60 }, (_, i) => 87.5 - 0.5 * i),
      );
      expect(deeper.title).toMatch(/^ledgers_ok dropped 2\d% at \d\d:\d\d UTC$/);
      expect(deeper.version).toBeGreaterThan(first.version);
    });

    it("a point seconds after the one before in a series five minutes apart waits to be judged, then its break is told and marked in its place", async () => {
      t.clock.advance(2 * 60 * minute);
      const start = t.clock.now().getTime();
      await points(metrics, steadyBefore(start)("stray_total", {}, 98));
      await t.drain();
      const at = (ms: number, value: number) => ({
        name: "stray_total",
        labels: {},
        ts: new Date(start + ms).toISOString(),
        value,
      });
      // A collector's retry sends a second point 5 s after the first: it may be the first of a
      // scraper's points seconds apart (judged a minute at a time), so it waits.
      await points(metrics, [at(0, 98), at(5_000, 20)]);
      await t.drain();
      expect(await cards("metric:stray_total")).toHaveLength(0);
      // The series goes on five minutes apart: the point is judged as it came, and told.
      t.clock.advance(10 * minute);
      await points(metrics, [at(5 * minute, 98), at(10 * minute, 98)]);
      await t.drain();
      const [card, ...more] = await cards("metric:stray_total");
      expect(more).toHaveLength(0);
      expect(card?.title).toBe(
        `stray_total dropped 80% at ${new Date(start).toISOString().slice(11, 16)} UTC`,
      );
      const preview = card?.preview as { points: [number, number][]; marks: number[] };
      expect(preview.marks.map((i) => preview.points[i])).toEqual([[start + 5_000, 20]]);
    });

    it("a break and its way back sent in one request: the card says it is back once the next point comes", async () => {
      t.clock.advance(2 * 60 * minute);
      const start = t.clock.now().getTime();
      const at = (k: number) => new Date(start + k * 5 * minute).toISOString();
      // Two steady days, the drop, and an hour and a quarter back, all in one request (a collector
      // that posts what it gathered each hour), sent at the last point's time.
      t.clock.advance(15 * 5 * minute);
      await points(metrics, [
        ...steadyBefore(start)("rebates_ok", {}, 98),
        { name: "rebates_ok", labels: {}, ts: at(0), value: 30 },
        ...Array.from({ length: 15 }, (_, i) => ({
          name: "rebates_ok",
          labels: {},
          ts: at(1 + i),
          value: 98,
        })),
      ]);
      await t.drain();
      const [first] = await cards("metric:rebates_ok");
      expect(first?.title).toMatch(/^rebates_ok dropped 69% at \d\d:\d\d UTC$/);
      t.clock.advance(5 * minute);
      await points(metrics, [{ name: "rebates_ok", labels: {}, ts: at(16), value: 98 }]);
      await t.drain();
      const [now, ...more] = await cards("metric:rebates_ok");
      expect(more).toHaveLength(0);
      expect(now?.title).toBe(`${first?.title}, back since ${at(1).slice(11, 16)} UTC`);
    });

    it("a rollback card says what reached its repository after the deploy, and stays its agent's card", async () => {
      t.clock.advance(2 * 60 * minute);
      const deployAt = t.clock.now().getTime();
      await deploy("1", "2", "acme/later");
      await points(metrics, steadyBefore(deployAt)("basket_ok", {}, 98));
      await t.drain();
      t.clock.advance(5 * minute);
      await points(metrics, [
        { name: "basket_ok", labels: {}, ts: new Date(deployAt + 4 * minute).toISOString(), value: 30 },
      ]);
      await t.drain();
      const mine = () => onlyCard("deploy:acme/later@");
      const card = await mine();
      expect(card.title).toMatch(/^basket_ok dropped \d+% 4 min after push 2222222.* — roll back\?$/);
      expect(card.summary).not.toContain("Deployed to");
      // The next push to the repository while the card waits: rolling back may take it back too.
      t.clock.advance(10 * minute);
      const laterAt = t.clock.now();
      await deploy("2", "3", "acme/later");
      await t.drain();
      const told = await mine();
      const when = `${laterAt.toISOString().slice(11, 16)} UTC`;
      expect(told.summary).toContain(`Deployed to acme/later since: push 3333333 at ${when}.`);
      expect(told.summary).toMatch(
        /Deployed to acme\/later since: .*\. (Rolling back to 1111111 may take it back too|The revert of 2222222 goes on top of it)\./,
      );
      expect(told.verification).toContainEqual({
        check: "nothing else reached acme/later since",
        status: "failed",
        detail: `push 3333333 at ${when}`,
      });
      // Still the metrics agent's card, its title and rank as they were; the push joins its evidence.
      expect(told.agent).toBe("metrics");
      expect(told.title).toBe(card.title);
      expect(told.priority).toBeCloseTo(card.priority, 2);
      expect(told.version).toBe(card.version + 1);
      const ids = (c: typeof card) => (c.evidence as { signalIds: string[] }).signalIds;
      expect(ids(told)).toHaveLength(ids(card).length + 1);
      // A push to another repository is not one to tell there.
      t.clock.advance(minute);
      await deploy("5", "6", "acme/elsewhere");
      await t.drain();
      expect((await mine()).version).toBe(told.version);
      // The commit before the deploy pushed again: it may be rolled back already.
      t.clock.advance(minute);
      const backAt = t.clock.now();
      await deploy("3", "1", "acme/later");
      await t.drain();
      expect((await mine()).summary).toContain(
        `Deployed to acme/later since: push 3333333 at ${when}, push 1111111 at ${backAt.toISOString().slice(11, 16)} UTC (the commit before it: rolled back already?).`,
      );
      // The metric's next break keeps the word.
      t.clock.advance(minute);
      await points(metrics, [
        { name: "basket_ok", labels: {}, ts: new Date(deployAt + 17 * minute).toISOString(), value: 10 },
      ]);
      await t.drain();
      expect((await mine()).summary).toContain("(the commit before it: rolled back already?).");
      t.clock.advance(2 * 60 * minute);
    });

    it("a rollback card for a push of several commits proposes reverting the whole push", async () => {
      // With no "rollback" action (an earlier test set one up: it is turned off for this one).
      const action = await rollbackAction();
      if (action?.enabled) await setAction(action.id, { enabled: false });
      try {
        t.clock.advance(2 * 60 * minute);
        const deployAt = t.clock.now().getTime();
        await deploy("1", "4", "acme/three", ["2", "3", "4"]);
        await points(metrics, steadyBefore(deployAt)("wishlist_ok", {}, 98));
        await t.drain();
        t.clock.advance(5 * minute);
        await points(metrics, [
          { name: "wishlist_ok", labels: {}, ts: new Date(deployAt + 4 * minute).toISOString(), value: 30 },
        ]);
        await t.drain();
        const [card, ...more] = await cards("deploy:acme/three@");
        expect(more).toHaveLength(0);
        const branch = (ghFixture("push/with-new-branch.payload.json").repository as Json).default_branch;
        expect(card?.change).toMatchObject({
          type: "github",
          operation: "revert_commit",
          params: { sha: "4".repeat(40), since: "1".repeat(40), branch },
        });
        expect(card?.summary).toMatch(
          /^Push 4444444 ".*" \(with 2 commits before it\) reached acme\/three at \d\d:\d\d UTC\. Since then:/,
        );
        expect(card?.summary).toMatch(
          /Accept opens a pull request reverting the 3 commits of the push \(1111111\.\.4444444\) on \w+ \(no \*\*rollback\*\* action is set up\)\.$/,
        );
      } finally {
        if (action?.enabled) await setAction(action.id, { enabled: true });
        t.clock.advance(2 * 60 * minute);
      }
    });

    it("a deploy is blamed and told what reached its repository later however many other repositories deployed since", async () => {
      t.clock.advance(2 * 60 * minute);
      // The dock's metrics name the one repository whose deploys can break them.
      const dock = await t.createSource(admin, "metrics", { deploys: ["acme/busy"] }, "Dock metrics");
      const deployAt = t.clock.now().getTime();
      await deploy("1", "2", "acme/busy");
      await points(dock, steadyBefore(deployAt)("dock_ok", {}, 98));
      await t.drain();
      // A busy organisation: forty other repositories deploy in the next four minutes.
      for (let i = 0; i < 40; i++) {
        t.clock.advance(5_000);
        await deploy("5", "6", `acme/service-${i}`);
      }
      await t.drain();
      t.clock.advance(2 * minute);
      await points(dock, [
        { name: "dock_ok", labels: {}, ts: new Date(deployAt + 4 * minute).toISOString(), value: 30 },
      ]);
      await t.drain();
      const mine = () => onlyCard("deploy:acme/busy@");
      expect((await mine()).title).toMatch(/^dock_ok dropped \d+% 4 min after push 2222222.* — roll back\?$/);
      // Forty more elsewhere, then the repository's own next push: the card says it came.
      for (let i = 40; i < 80; i++) {
        t.clock.advance(5_000);
        await deploy("5", "6", `acme/service-${i}`);
      }
      t.clock.advance(minute);
      const laterAt = t.clock.now();
      await deploy("2", "3", "acme/busy");
      await t.drain();
      expect((await mine()).summary).toContain(
        `Deployed to acme/busy since: push 3333333 at ${laterAt.toISOString().slice(11, 16)} UTC.`,
      );
      t.clock.advance(2 * 60 * minute);
    });

    it("a deploy that breaks two metrics (one on two series) and brings two new errors tells each on its one rollback card", async () => {
      t.clock.advance(2 * 60 * minute);
      const deployAt = t.clock.now().getTime();
      await deploy("6", "7");
      // Two days of steady series before it: cart latency in two zones, and orders.
      const steady = steadyBefore(deployAt);
      await points(metrics, [
        ...steady("cart_latency", { zone: "a" }, 120),
        ...steady("cart_latency", { zone: "b" }, 120),
        ...steady("orders_per_minute", {}, 60),
      ]);
      await t.drain();
      // Minutes after the deploy, each breaks (zone b a minute after zone a, not as far).
      t.clock.advance(6 * minute);
      await points(metrics, [
        {
          name: "cart_latency",
          labels: { zone: "a" },
          ts: new Date(deployAt + 4 * minute).toISOString(),
          value: 900,
        },
        {
          name: "cart_latency",
          labels: { zone: "b" },
          ts: new Date(deployAt + 5 * minute).toISOString(),
          value: 180,
        },
        { name: "orders_per_minute", ts: new Date(deployAt + 5 * minute).toISOString(), value: 12 },
      ]);
      await t.drain();
      const found = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("7".repeat(40)));
      expect(found).toHaveLength(1);
      const card = found[0] as typeof schema.cards.$inferSelect;
      expect(card.title).toMatch(
        /^cart_latency rose [\d.]+× on 2 series and orders_per_minute dropped \d+% 4 min after push 7777777.* — roll back\?$/,
      );
      // Two new errors as well (two Sentry groups): each its own line, the title names two
      // troubles and counts the rest.
      for (const [type, value] of [
        ["CartError", "total is None"],
        ["OrderError", "no items"],
      ] as const) {
        await sentryEvent({
          ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
          exception: {
            values: [{ type, value, stacktrace: { frames: [{ function: type, in_app: true }] } }],
          },
          fingerprint: [type],
          timestamp: t.clock.now().toISOString(),
        });
      }
      await t.drain();
      const [four] = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("7".repeat(40)));
      expect(four?.summary).toMatch(/^- new error "CartError: total is None" ×1/m);
      expect(four?.summary).toMatch(/^- new error "OrderError: no items" ×1/m);
      expect(four?.summary).toMatch(/^- cart_latency rose/m);
      expect(four?.summary).toMatch(/^- orders_per_minute dropped/m);
      expect(four?.title).toMatch(
        /^New CartError ×1, new OrderError ×1 and 2 more \d+ min after push 7777777/,
      );
      // The errors came last, later than the metrics broke: the card still says when its first
      // trouble began, in the title and in the check alike.
      const since = Number(/ (\d+) min after push/.exec(four?.title ?? "")?.[1]);
      expect(four?.verification).toEqual([
        expect.objectContaining({ status: "passed", detail: `${since} min after it` }),
      ]);
      expect(since).toBeLessThan(Math.round((t.clock.now().getTime() - deployAt) / minute));
      // The line tells zone a's break, the worse one, though zone b's came later.
      expect(card.summary).toMatch(/^- cart_latency rose 7\.\d+× at \d\d:\d\d UTC and on 1 more series$/m);
      expect(card.summary).toMatch(/^- orders_per_minute dropped \d+% at \d\d:\d\d UTC$/m);
      // No one trouble's figures beside the title: orders' value is not the card's.
      const shown = Object.entries((card.evidence as { facts: Record<string, unknown> }).facts)
        .filter(([k, v]) => !/^(seen|brief|since):/.test(k) && v !== "")
        .map(([k]) => k)
        .sort();
      expect(shown).toEqual(["deploy", "minutesAfterDeploy"]);
      // Each trouble's chart: the first large, its stretch since the deploy shaded; the others
      // small below it, each in its own units.
      type Chart = {
        label: string;
        points: [number, number][];
        span?: [number, number];
        charts?: { label: string }[];
      };
      const chart = card.preview as Chart & { others?: { label: string }[] };
      expect(chart.label).toBe("cart_latency");
      // Both zones of cart_latency: one drawn, the other behind it.
      expect(chart.others?.map((o) => o.label)).toEqual([expect.stringMatching(/^zone=(a|b)$/)]);
      expect(chart.charts?.map((c) => c.label)).toEqual(["orders_per_minute"]);
      const [from = 0, to] = chart.span ?? [];
      expect(chart.points[from]?.[0]).toBeLessThan(deployAt);
      expect(chart.points[from + 1]?.[0]).toBeGreaterThanOrEqual(deployAt);
      expect(to).toBe(chart.points.length - 1);
      // The hours before the deploy, not the days: the break marked where it is in what is drawn.
      expect(chart.points[0]?.[0]).toBeGreaterThanOrEqual(deployAt - 2 * 60 * minute);
      expect(chart.points[(chart as { marks?: number[] }).marks?.[0] ?? -1]?.[0]).toBeGreaterThanOrEqual(
        deployAt,
      );
      const all = four?.preview as Chart;
      expect(all.label).toBe("cart_latency");
      expect(all.charts?.map((c) => c.label)).toEqual([
        "orders_per_minute",
        "CartError events / 10 min",
        "OrderError events / 10 min",
      ]);
      // Each small chart shades the deploy's stretch too.
      for (const small of all.charts as Chart[]) {
        // (An error chart's 10-minute bucket may have begun before the deploy and be the last.)
        const [start = -1, end] = small.span ?? [];
        expect(end, small.label).toBe(small.points.length - 1);
        expect(small.points[start]?.[0], small.label).toBeLessThan(deployAt);
        expect(small.points[start + 1]?.[0] ?? deployAt, small.label).toBeGreaterThanOrEqual(deployAt);
      }
      // Several troubles after one deploy rank as the worst there is; no card of their own.
      expect(four?.priorityFactors.severity).toBe(1);
      expect(await cards("sentry:fp:")).toHaveLength(0);
      expect(await cards("metric:cart_latency")).toHaveLength(0);
      expect(await cards("metric:orders_per_minute")).toHaveLength(0);
    });

    it("a rejected rollback card stays quiet for its troubles, but a new trouble after the same deploy is a card again", async () => {
      t.clock.advance(2 * 60 * minute);
      const deployAt = t.clock.now().getTime();
      await deploy("8", "9");
      const base = deployAt - 2 * 24 * 60 * minute;
      await points(
        metrics,
        ["eu", "us"].flatMap((region) =>
          Array.from({ length: 576 }, (_, i) => ({
            name: "refunds_ok",
            labels: { region },
            ts: new Date(base + i * 5 * minute).toISOString(),
            value: 98 + Math.sin(i / 7),
          })),
        ),
      );
      await t.drain();
      const drop = async (region: string, after: number) => {
        await points(metrics, [
          {
            name: "refunds_ok",
            labels: { region },
            ts: new Date(deployAt + after * minute).toISOString(),
            value: 30,
          },
        ]);
        await t.drain();
      };
      const rollbacks = async () =>
        (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("9".repeat(40)));
      t.clock.advance(3 * minute);
      await drop("eu", 3);
      const [card] = await rollbacks();
      if (!card) throw new Error("no rollback card");
      expect(card.title).toMatch(/^refunds_ok dropped \d+% 3 min after push 9999999/);
      await decide(card, "reject");
      // The same metric in another region: the trouble the rejected card told, quiet.
      t.clock.advance(minute);
      await drop("us", 4);
      expect((await rollbacks()).map((c) => c.status)).toEqual(["rejected"]);
      // A new error after the same deploy: not on the rejected card.
      t.clock.advance(minute);
      await sentryEvent({
        ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
        exception: {
          values: [
            {
              type: "RefundError",
              value: "no order",
              stacktrace: { frames: [{ function: "refund", in_app: true }] },
            },
          ],
        },
        fingerprint: ["RefundError"],
        timestamp: t.clock.now().toISOString(),
      });
      await t.drain();
      const [, again] = await rollbacks();
      expect(again?.status).toBe("pending");
      expect(again?.title).toMatch(/^New RefundError ×1( \(\d+ users?\))? \d+ min after push 9999999/);
      expect(again?.summary).toMatch(
        /Its card was rejected for refunds_ok dropped \d+%; new RefundError ×1( \(\d+ users?\))? is new since, so it is here despite the mute\./,
      );
    });

    it("draws a later trouble's every broken series on its small chart, cut to the deploy's hours", async () => {
      t.clock.advance(2 * 60 * minute);
      const deployAt = t.clock.now().getTime();
      await deploy("a", "b");
      const steady = steadyBefore(deployAt);
      await points(metrics, [
        ...steady("picks_per_minute", {}, 60),
        ...steady("pack_wait", { zone: "a" }, 40),
        ...steady("pack_wait", { zone: "b" }, 40),
      ]);
      await t.drain();
      // Picks drop first; then packing waits jump in both zones: a second trouble, on two series.
      t.clock.advance(3 * minute);
      const at = (m: number) => new Date(deployAt + m * minute).toISOString();
      await points(metrics, [{ name: "picks_per_minute", ts: at(2), value: 10 }]);
      await t.drain();
      t.clock.advance(3 * minute);
      await points(metrics, [
        { name: "pack_wait", labels: { zone: "a" }, ts: at(5), value: 400 },
        { name: "pack_wait", labels: { zone: "b" }, ts: at(5), value: 300 },
      ]);
      await t.drain();
      const [card, ...more] = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("b".repeat(40)));
      expect(more).toHaveLength(0);
      if (!card) throw new Error("no rollback card");
      type Small = {
        label: string;
        points: [number, number][];
        others?: { label: string; points: [number, number][] }[];
      };
      const preview = card.preview as { label: string; charts?: Small[] };
      expect(preview.label).toBe("picks_per_minute");
      expect(preview.charts?.map((c) => c.label)).toEqual(["pack_wait"]);
      const small = preview.charts?.[0] as Small;
      // The zone whose break came in last is drawn, the other behind it; both from the hours
      // around the deploy, as the large chart is.
      expect(small.others?.map((o) => o.label)).toEqual([expect.stringMatching(/^zone=(a|b)$/)]);
      const behind = small.others?.[0]?.points ?? [];
      expect(behind.at(-1)?.[1]).toBe(small.others?.[0]?.label === "zone=a" ? 400 : 300);
      expect(behind.length).toBeGreaterThan(10);
      for (const line of [small.points, behind])
        expect(line[0]?.[0]).toBeGreaterThanOrEqual(deployAt - 2 * 60 * minute - 5 * minute);
    });

    it("an error that began after a deploy whose webhook came late joins its rollback card as soon as the deploy is read", async () => {
      // GitHub's push webhook is read after Sentry's first events of the crash it caused: the error
      // gets its own card at first, then the deploy's card takes it over — one card, not two — when
      // the push is read, with no need for another event (an error may never fire again).
      // Past the half hour the earlier tests' deploys take blame for.
      t.clock.advance(60 * minute);
      const before = new Set((await cards("sentry:")).map((c) => c.id));
      const crash = (user: string, group = "crash-before-its-deploy-was-read") =>
        sentryEvent({
          ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
          fingerprint: [group],
          timestamp: t.clock.now().toISOString(),
          user: { id: user },
        });
      // Another error began a minute before the push: not the push's doing, it keeps its card.
      t.clock.advance(-minute);
      await crash("earlier", "crash-before-the-push");
      t.clock.advance(4 * minute);
      await crash("late-1");
      await crash("late-2");
      await t.drain();
      const own = (await cards("sentry:")).filter((c) => !before.has(c.id));
      expect(own.map((c) => [c.status, c.title])).toEqual([
        ["pending", expect.stringMatching(/^New error: /)],
        ["pending", expect.stringMatching(/^New error: /)],
      ]);
      // The push, three minutes before those events, arrives now.
      t.clock.advance(-3 * minute);
      await deploy("e", "f");
      await t.drain();
      const rollback = async () =>
        (await cards("deploy:"))
          .filter((c) => c.fingerprint.endsWith("f".repeat(40)))
          .map((c) => [c.status, c.title, (c.evidence as { signalIds: string[] }).signalIds.length]);
      // The deploy and both events.
      expect(await rollback()).toEqual([
        [
          "pending",
          expect.stringMatching(/^New \w+ ×2 \(2 users\) 3 min after push fffffff.* — roll back\?$/),
          3,
        ],
      ]);
      // The error's own card left the feed: the rollback card tells it.
      const now = await t.database.db
        .select()
        .from(schema.cards)
        .where(
          inArray(
            schema.cards.id,
            own.map((c) => c.id),
          ),
        );
      // (The earlier error's card has its one event, the later's two.)
      expect(
        now.map((c) => [(c.evidence as { signalIds: string[] }).signalIds.length, c.status]).sort(),
      ).toEqual([
        [1, "pending"],
        [2, "expired"],
      ]);
      // Its next events keep telling it there.
      t.clock.advance(4 * minute);
      await crash("late-3");
      await t.drain();
      expect(await rollback()).toEqual([
        [
          "pending",
          expect.stringMatching(/^New \w+ ×3 \(3 users\) 3 min after push fffffff.* — roll back\?$/),
          4,
        ],
      ]);
      const left = (await cards("sentry:")).filter((c) => !before.has(c.id) && c.status === "pending");
      expect(left.map((c) => (c.evidence as { signalIds: string[] }).signalIds.length)).toEqual([1]);
    });

    it("a metric that broke while a deploy workflow rolled out joins its rollback card once the workflow reports success", async () => {
      // GitHub sends a workflow run's webhook when it completes: a deploy workflow's new version
      // may have been serving, and breaking things, for minutes by then. Past the earlier deploys.
      t.clock.advance(60 * minute);
      const started = t.clock.now().getTime();
      const name = "login_success";
      const at = (zone: string, value: number) => ({
        name,
        labels: { zone },
        ts: t.clock.now().toISOString(),
        value,
      });
      await points(
        metrics,
        ["a", "b"].flatMap((zone) =>
          Array.from({ length: 576 }, (_, i) => ({
            name,
            labels: { zone },
            ts: new Date(started - (576 - i) * 5 * minute).toISOString(),
            value: 97 + Math.sin(i / 7),
          })),
        ),
      );
      await t.drain();
      // Four and five minutes into the rollout, logins drop in both zones: no deploy is known yet,
      // so they are one card of their own (zone a's, telling zone b's drop too).
      t.clock.advance(4 * minute);
      await points(metrics, [at("a", 41)]);
      await t.drain();
      t.clock.advance(minute);
      await points(metrics, [at("a", 40), at("b", 45)]);
      await t.drain();
      const own = await cards(`metric:${name}`);
      expect(own.map((c) => [c.status, c.title])).toEqual([
        [
          "pending",
          expect.stringMatching(/^login_success dropped \d+% at \d\d:\d\d UTC and on 1 more series$/),
        ],
      ]);
      // The "Deploy" workflow, begun four minutes before the first drop, reports success now.
      t.clock.advance(2 * minute);
      const run = ghFixture("workflow_run/completed.payload.json");
      const repo = run.repository as Json;
      await github("workflow_run", {
        ...run,
        workflow_run: {
          ...(run.workflow_run as Json),
          name: "Deploy",
          head_branch: repo.default_branch,
          head_sha: "6d".repeat(20),
          conclusion: "success",
          run_started_at: new Date(started).toISOString(),
          updated_at: t.clock.now().toISOString(),
        },
      });
      await t.drain();
      // The series' next points: both drops are the deploy's now.
      t.clock.advance(5 * minute);
      await points(metrics, [at("a", 42), at("b", 44)]);
      await t.drain();
      const rollback = (await cards("deploy:")).filter((c) => c.fingerprint.endsWith("6d".repeat(20)));
      expect(rollback.map((c) => [c.status, c.title])).toEqual([
        [
          "pending",
          expect.stringMatching(
            /^login_success dropped \d+% on 2 series 4 min after Deploy 6d6d6d6 — roll back\?$/,
          ),
        ],
      ]);
      expect(rollback[0]?.summary).toMatch(
        /^Deploy 6d6d6d6 ran on [\w-]+\/[\w-]+ from \d\d:\d\d to \d\d:\d\d UTC\. Since it began:\n- login_success dropped \d+% at \d\d:\d\d UTC and on 1 more series$/m,
      );
      // Both zones drawn: the first large, the other behind it.
      expect(rollback[0]?.preview).toMatchObject({
        type: "series",
        label: name,
        others: [expect.objectContaining({ label: expect.stringContaining("zone=") })],
      });
      // Their card left the feed: the rollback card tells both drops.
      const [gone] = await t.database.db
        .select()
        .from(schema.cards)
        .where(eq(schema.cards.id, own[0]?.id ?? ""));
      expect(gone?.status).toBe("expired");
      // Later points of either zone stay on the rollback card; no card of their own comes back.
      t.clock.advance(5 * minute);
      await points(metrics, [at("a", 43), at("b", 43)]);
      await t.drain();
      expect((await cards(`metric:${name}`)).map((c) => c.status)).toEqual(["expired"]);
    });

    it("a source that names the repositories whose deploys can break it blames only their deploys", async () => {
      // Past the half hour the earlier tests' deploys take blame for.
      t.clock.advance(60 * minute);
      const refused = await t.createSource(admin, "sentry", { deploys: ["shop"] }, "Refused").catch((e) => e);
      expect(String(refused)).toContain("answered 400");
      expect(String(refused)).toContain('must be a GitHub repository as \\"owner/name\\"');
      // The shop's errors: only its own repository's deploys (any case) can cause them.
      const shop = await t.createSource(
        admin,
        "sentry",
        { deploys: ["codertocat/hello-world"] },
        "Shop errors",
      );
      const crash = (group: string, to?: Source) =>
        sentryEvent(
          {
            ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
            fingerprint: [group],
            timestamp: t.clock.now().toISOString(),
            user: { id: group },
          },
          to,
        );
      // The shop's metrics too: two steady days of orders before the docs deploy.
      const shopMetrics = await t.createSource(
        admin,
        "metrics",
        { deploys: ["Codertocat/Hello-World"] },
        "Shop metrics",
      );
      await points(shopMetrics, steadyBefore(t.clock.now().getTime())("shop_orders", {}, 80));
      await t.drain();
      const before = new Set((await cards("")).map((c) => c.id));
      const fresh = async () =>
        (await cards("")).filter((c) => !before.has(c.id)).map((c) => [c.fingerprint.split("@")[0], c.title]);
      // The docs site deploys; three minutes later the shop and an unscoped source each see a new error.
      await deploy("b", "c", "acme/docs");
      t.clock.advance(3 * minute);
      await crash("shop-crash-after-docs-deploy", shop);
      await crash("unscoped-crash-after-docs-deploy");
      // …and its orders drop.
      await points(shopMetrics, [{ name: "shop_orders", ts: t.clock.now().toISOString(), value: 5 }]);
      await t.drain();
      expect((await fresh()).sort()).toEqual([
        // A source that names no repository blames whatever deployed last, as before.
        ["deploy:acme/docs", expect.stringMatching(/^New \w+ ×1 \(1 user\) 3 min after push ccccccc/)],
        // The shop's drop and error are not the docs' doing: cards of their own.
        ["metric:shop_orders{}", expect.stringMatching(/^shop_orders dropped \d+% at \d\d:\d\d UTC$/)],
        [expect.stringMatching(/^sentry:/), expect.stringMatching(/^New error: /)],
      ]);
      // The docs deploy again, then the shop itself: the shop's next new error is its deploy's,
      // the docs' deploy not even named.
      t.clock.advance(60 * minute);
      const now = new Set((await cards("")).map((c) => c.id));
      await deploy("c", "4", "acme/docs");
      const docsAt = t.clock.now();
      t.clock.advance(minute);
      await deploy("c", "1");
      t.clock.advance(2 * minute);
      await crash("shop-crash-after-shop-deploy", shop);
      await t.drain();
      const after = async () => (await cards("")).filter((c) => !now.has(c.id));
      expect((await after()).map((c) => [c.fingerprint, c.title])).toEqual([
        [
          `deploy:Codertocat/Hello-World@${"1".repeat(40)}`,
          expect.stringMatching(/^New \w+ ×1 \(1 user\) 2 min after push 1111111/),
        ],
      ]);
      expect((await after())[0]?.summary).not.toContain("Also deployed");
      // An unscoped source's error blames the latest deploy, the shop's, and its card names the
      // docs' deploy too, which that error could as well be — and how to tell them apart.
      t.clock.advance(minute);
      await crash("unscoped-crash-after-both", undefined);
      await t.drain();
      const [card, ...more] = await after();
      expect(more).toEqual([]);
      expect(card?.title).toMatch(
        /^New \w+ ×1 \(1 user\) and new \w+ ×1 \(1 user\) 2 min after push 1111111/,
      );
      // (The day is said too when the deploy was on another day than now.)
      const hhmm = docsAt.toISOString().slice(11, 16);
      expect(card?.summary).toMatch(
        new RegExp(
          `\nAlso deployed in the half hour before the trouble: push 4444444 to acme/docs at (\\w{3} \\d{1,2}, )?${hhmm} UTC\\. A source whose settings name the repositories whose deploys can break it blames only theirs\\.\n`,
        ),
      );
    });

    /** Accepts a card and lets its change run, retries and all (50 minutes): how it ended. */
    const rollBack = async (card: { id: string; version: number }) => {
      await decide(card, "accept");
      for (let i = 0; i < 5; i++) {
        t.clock.advance(10 * minute);
        const runner = t.executions();
        while (await runner.runNext()) {
          // every due try
        }
      }
      const [run] = await t.database.db
        .select()
        .from(schema.executions)
        .where(eq(schema.executions.cardId, card.id));
      return run?.state;
    };
    const checks = (card: { verification: unknown }) => card.verification as Verification;
    /** The card as it is now. */
    const cardNow = async (id: string) => {
      const [card] = await t.database.db.select().from(schema.cards).where(eq(schema.cards.id, id));
      if (!card) throw new Error(`no card ${id}`);
      return card;
    };
    type Action = { id: string; name: string; url: string; enabled: boolean };
    /** The "rollback" action, when a test set one up. */
    const rollbackAction = async () =>
      (await t.request<{ actions: Action[] }>("/api/actions", { cookie: admin })).body.actions.find(
        (a) => a.name === "rollback",
      );
    const setAction = (id: string, change: Partial<Action>) =>
      t.request(`/api/actions/${id}`, { cookie: admin, method: "PATCH", json: change });
    /** Sets up a "rollback" action that works (the local GitHub answers it); returns its id. */
    const workingRollback = async (earlier: Action | undefined) => {
      const url = `${githubApi.url}/rollback`;
      const made = earlier
        ? await setAction(earlier.id, { url, enabled: true })
        : await t.request("/api/actions", { cookie: admin, json: { name: "rollback", url } });
      expect(made.status, made.text).toBe(earlier ? 200 : 201);
      return earlier?.id ?? (made.body as { action: Action }).action.id;
    };

    it("a rollback card says how rolling back the repository went before: whether it ran, and whether it stopped the errors", async () => {
      const crash = (group: string) =>
        sentryEvent({
          ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
          fingerprint: [group],
          timestamp: t.clock.now().toISOString(),
          user: { id: group },
        });
      /** A push, a new error two minutes later: the push's rollback card. */
      const trouble = async (sha: string) => {
        t.clock.advance(60 * minute);
        await deploy("c", sha);
        t.clock.advance(2 * minute);
        await crash(`crash-after-${sha}`);
        await t.drain();
        const [card] = await cards(`deploy:Codertocat/Hello-World@${sha.repeat(40)}`);
        if (!card) throw new Error(`no rollback card for ${sha}`);
        return card;
      };
      // An earlier test may have set up a "rollback" action: off until this one sets it up.
      const earlier = await rollbackAction();
      if (earlier) expect((await setAction(earlier.id, { enabled: false })).status).toBe(200);
      // Never rolled back here: the card has only its own check, and what GitHub said of the revert
      // (nothing: the local GitHub has no git data for this repository).
      const first = await trouble("6");
      expect(checks(first).map((c) => [c.check, c.status])).toEqual([
        ["the trouble started after the deploy, not before", "passed"],
        ["the revert goes onto master's tip", "skipped"],
      ]);
      // With no rollback action, accept opens a revert pull request: GitHub refuses it here (404).
      expect(first.change).toMatchObject({ type: "github", operation: "revert_commit" });
      expect(await rollBack(first)).toBe("failed");
      // The team sets up its rollback action, which works.
      const id = await workingRollback(earlier);
      try {
        // The next card proposes the action: how reverts went says nothing of it.
        const second = await trouble("8");
        expect(second.change).toMatchObject({ type: "webhook", action: "rollback" });
        expect(checks(second)).toHaveLength(1);
        expect(await rollBack(second)).toBe("succeeded");
        // …but its error keeps coming, 40 minutes after the rollback was carried out: the card
        // that was carried out says so at once, and stays carried out.
        await crash("crash-after-8");
        await t.drain();
        const told = await cardNow(second.id);
        expect(told.status).toBe("applied");
        expect(told.version).toBeGreaterThan(second.version);
        expect(checks(told).slice(1)).toEqual([
          {
            check: "after the rollback, Exception: This is an example Python exception stopped",
            status: "failed",
            detail: expect.stringMatching(/^it came again 40 min after it, at \d\d:\d\d UTC$/),
            after: true,
          },
        ]);
        // Told once: its next event in the hour does not write the carried-out card again.
        await crash("crash-after-8");
        await t.drain();
        expect((await cardNow(second.id)).version).toBe(told.version);
        // …and the error, which the rollback did not stop, has its card again: an issue to open.
        const [own] = (await cards("sentry:")).filter((c) =>
          c.title.startsWith("Not stopped by the rollback: "),
        );
        expect(own).toMatchObject({
          status: "pending",
          title:
            "Not stopped by the rollback: Exception: This is an example Python exception — still coming after 8888888 was rolled back",
          change: { type: "github", operation: "create_issue", repository: "acme/shop" },
        });
        expect(own?.summary).toContain(
          "The rollback of Codertocat/Hello-World to before 8888888 was carried out and it kept coming: 2 events in the hour after.",
        );
        const third = await trouble("a");
        expect(checks(third).slice(1)).toEqual([
          {
            check: "the rollback action for Codertocat/Hello-World worked before",
            status: "passed",
            detail: "1 of 1 in the last 90 days",
          },
          {
            check: "earlier rollbacks of Codertocat/Hello-World stopped their errors within an hour",
            status: "failed",
            detail:
              "0 of 1 in the last 90 days; after the latest, Exception: This is an example Python exception kept coming (2 more)",
          },
        ]);
        // This one's error stops with its rollback: no event of it, nor any other signal, comes.
        expect(await rollBack(third)).toBe("succeeded");
        const stopped = {
          check: "after the rollback, Exception: This is an example Python exception stopped",
          status: "passed",
          detail: "no event in the hour after it (from 10 min on, the rollout's time)",
          after: true,
        };
        // The clock tells it once the hour after it was carried out is over, not before.
        const applied = (await cardNow(third.id)).updatedAt.getTime();
        t.clock.advance(applied + 59 * minute - t.clock.now().getTime());
        await t.tick();
        expect(checks(await cardNow(third.id))).toHaveLength(3);
        t.clock.advance(2 * minute);
        await t.tick();
        expect(checks(await cardNow(third.id)).slice(3)).toEqual([stopped]);
      } finally {
        // Off again for the revert below (and as an earlier test left it).
        await setAction(id, { ...(earlier ? { url: earlier.url } : {}), enabled: false });
      }
      // A revert again: the card says the last one failed, and why.
      const fourth = await trouble("e");
      // The third card said so once: the next signals do not write it again.
      const [third] = await cards(`deploy:Codertocat/Hello-World@${"a".repeat(40)}`);
      if (!third) throw new Error("no third card");
      expect(third.status).toBe("applied");
      expect(checks(third).slice(3)).toEqual([
        {
          check: "after the rollback, Exception: This is an example Python exception stopped",
          status: "passed",
          detail: "no event in the hour after it (from 10 min on, the rollout's time)",
          after: true,
        },
      ]);
      expect(fourth.change).toMatchObject({ type: "github", operation: "revert_commit" });
      expect(checks(fourth).slice(1)).toEqual([
        {
          check: "a revert pull request on Codertocat/Hello-World worked before",
          status: "failed",
          detail: expect.stringMatching(/^0 of 1 in the last 90 days; the latest failure: .*404/),
        },
        // The latest rollback stopped its error; the one before did not.
        {
          check: "earlier rollbacks of Codertocat/Hello-World stopped their errors within an hour",
          status: "passed",
          detail: "1 of 2 in the last 90 days",
        },
        // GitHub's git data for this repository is not there (404): the revert's check is not known.
        {
          check: "the revert goes onto master's tip",
          status: "skipped",
          detail: "not known: reading master: GitHub answered 404",
        },
      ]);
    });

    it("a rollback card's revert is checked with GitHub: a later push to the same file makes it revert back to before the deploy", async () => {
      const earlier = await rollbackAction();
      if (earlier?.enabled) expect((await setAction(earlier.id, { enabled: false })).status).toBe(200);
      const repository = { full_name: "acme/roll", default_branch: "master" };
      const commit = (text: string, message: string) => {
        writeFileSync(path.join(rollRepo, "cart.js"), text);
        git(rollRepo, "commit", "-q", "-am", message);
        return git(rollRepo, "rev-parse", "HEAD");
      };
      const push = (before: string, after: string, message: string) =>
        github("push", {
          ref: "refs/heads/master",
          before,
          after,
          created: false,
          deleted: false,
          forced: false,
          repository: { ...repository, pushed_at: Math.floor(t.clock.now().getTime() / 1000) },
          head_commit: { id: after, message },
          commits: [{ id: after, message }],
        });
      const before = git(rollRepo, "rev-parse", "HEAD");
      t.clock.advance(60 * minute);
      const deployed = commit("export const total = tax(0);\n", "Cart: totals with tax");
      await push(before, deployed, "Cart: totals with tax");
      t.clock.advance(2 * minute);
      await sentryEvent({
        ...(JSON.parse(fixture("sentry/events/python-modern.json")) as Json),
        fingerprint: ["crash-after-roll"],
        timestamp: t.clock.now().toISOString(),
        user: { id: "roll" },
      });
      await t.drain();
      const card = await onlyCard(`deploy:acme/roll@${deployed}`);
      expect(card.change).toMatchObject({
        operation: "revert_commit",
        params: { sha: deployed, branch: "master" },
      });
      expect(checks(card).at(-1)).toEqual({
        check: "the revert goes onto master's tip",
        status: "passed",
        detail: `no later commit changed its files (master is at ${deployed.slice(0, 7)})`,
      });
      // A fix-forward to the same file reaches master while the card waits: the deploy's commit
      // can no longer be reverted alone — the card says so and proposes going back to before it.
      t.clock.advance(5 * minute);
      const fix = commit("export const total = tax(0) + 0;\n", "Try to fix the cart");
      await push(deployed, fix, "Try to fix the cart");
      await t.drain();
      const now = await onlyCard(`deploy:acme/roll@${deployed}`);
      expect(now.change).toMatchObject({
        operation: "revert_commit",
        params: { sha: fix, since: before, branch: "master" },
      });
      expect(now.summary).toContain("Later commits changed cart.js too: the revert takes them back as well.");
      expect(now.summary).toContain(
        `Accept opens a pull request reverting all 2 commits after ${before.slice(0, 7)} up to ${fix.slice(0, 7)}, the tip of master — later commits changed cart.js too, so ${deployed.slice(0, 7)} cannot be reverted alone (no **rollback** action is set up).`,
      );
      expect(checks(now).at(-1)).toMatchObject({
        status: "passed",
        detail: `with the 2 commits after ${before.slice(0, 7)} reverted together (later commits changed cart.js)`,
      });
    });

    it("a rollback card says whether earlier rollbacks of the repository brought their metrics back", async () => {
      const repository = "acme/pay";
      /** A push to acme/pay, then `metric` (steady at 98 for two days) drops to 30: the push's rollback card. */
      const trouble = async (sha: string, metric: string) => {
        t.clock.advance(2 * 60 * minute);
        const deployAt = t.clock.now().getTime();
        await deploy("0", sha, repository);
        await points(metrics, steadyBefore(deployAt)(metric, {}, 98));
        await t.drain();
        t.clock.advance(3 * minute);
        await points(metrics, [
          { name: metric, labels: {}, ts: new Date(deployAt + 3 * minute).toISOString(), value: 30 },
        ]);
        await t.drain();
        const [card] = await cards(`deploy:${repository}@${sha.repeat(40)}`);
        if (!card) throw new Error(`no rollback card for ${metric}`);
        return card;
      };
      /**
       * The metric's points every five minutes from the rollback card's carrying out to past the
       * hour after it (or, `past` false, to 55 minutes after it: none past the hour yet), at `level`
       * throughout. Returns when it was carried out.
       */
      const after = async (
        card: { id: string },
        metric: string,
        level: number,
        past = true,
        /** Minutes after the rollback until which it stays at its broken level (30). */
        brokenUntil = 0,
      ) => {
        const [done] = await t.database.db.select().from(schema.cards).where(eq(schema.cards.id, card.id));
        if (!done) throw new Error("no card");
        expect(done.status).toBe("applied");
        const at = done.updatedAt.getTime();
        const sent = past ? 14 : 11;
        t.clock.advance(at + (sent * 5 + 1) * minute - t.clock.now().getTime());
        await points(
          metrics,
          Array.from({ length: sent }, (_, i) => ({
            name: metric,
            labels: {},
            ts: new Date(at + (i + 1) * 5 * minute).toISOString(),
            value: ((i + 1) * 5 <= brokenUntil ? 30 : level) + Math.sin(i),
          })),
        );
        await t.drain();
        return at;
      };
      const earlier = await rollbackAction();
      const id = await workingRollback(earlier);
      try {
        // Never rolled back: the card has only its own check.
        const first = await trouble("1", "payouts_ok");
        expect(checks(first)).toHaveLength(1);
        expect(await rollBack(first)).toBe("succeeded");
        // The rollback ran, but the metric stays down the whole hour after it — and sends nothing
        // past it (it reports every quarter hour, say): the clock tells once the hour is over.
        const at = await after(first, "payouts_ok", 30, false);
        expect(checks(await cardNow(first.id))).toHaveLength(1);
        t.clock.advance(at + 59 * minute - t.clock.now().getTime());
        await t.tick();
        expect(checks(await cardNow(first.id))).toHaveLength(1);
        t.clock.advance(2 * minute);
        await t.tick();
        // The card that was carried out says what came of it.
        expect(checks(await cardNow(first.id)).slice(1)).toEqual([
          {
            check: "after the rollback, payouts_ok came back",
            status: "failed",
            detail: expect.stringMatching(
              /^it was near (29|30)(\.\d+)? at the end of the hour after it, where about 9\d(\.\d+)? was usual$/,
            ),
            after: true,
          },
        ]);
        // …and the metric, which the rollback did not bring back, has its own card again, at its
        // next point.
        expect(await cards("metric:payouts_ok")).toHaveLength(0);
        t.clock.advance(at + 75 * minute - t.clock.now().getTime());
        await points(metrics, [
          { name: "payouts_ok", labels: {}, ts: new Date(at + 75 * minute).toISOString(), value: 30 },
        ]);
        await t.drain();
        const [own] = await cards("metric:payouts_ok");
        expect(own?.status).toBe("pending");
        expect(own?.title).toMatch(
          /^payouts_ok dropped \d+% and did not come back after the rollback of 1111111$/,
        );
        expect(own?.summary).toContain(
          "The rollback of acme/pay to before 1111111 was carried out and it did not come back in the hour after.",
        );
        const second = await trouble("2", "ledger_ok");
        expect(checks(second).slice(1)).toEqual([
          {
            check: `the rollback action for ${repository} worked before`,
            status: "passed",
            detail: "1 of 1 in the last 90 days",
          },
          {
            check: `earlier rollbacks of ${repository} brought their metrics back within an hour`,
            status: "failed",
            detail: expect.stringMatching(
              /^0 of 1 in the last 90 days; after the latest, payouts_ok ended the hour near (29|30)(\.\d+)? where about 9\d(\.\d+)? was usual$/,
            ),
          },
        ]);
        // This one's metric comes back within the hour — slowly: it stays down for 40 minutes
        // (most of the hour, but it ended the hour back).
        expect(await rollBack(second)).toBe("succeeded");
        await after(second, "ledger_ok", 98, true, 40);
        // One that came back has no card of its own.
        expect(await cards("metric:ledger_ok")).toHaveLength(0);
        expect(checks(await cardNow(second.id)).slice(-1)).toEqual([
          {
            check: "after the rollback, ledger_ok came back",
            status: "passed",
            detail: expect.stringMatching(
              /^near 9\d(\.\d+)? from 45 min after it, about 9\d(\.\d+)? before the break \(it had gone to 30\)$/,
            ),
            after: true,
          },
        ]);
        // Back to stay, it is watched in full again: a later deploy that breaks it again has its
        // rollback card (the detector's rest after the first break would have hidden this one).
        const again = await trouble("5", "ledger_ok");
        expect(again.title).toMatch(/ledger_ok dropped \d+%/);
        /** The repository's record as a new rollback card tells it (after its action's record). */
        const record = (card: { verification: unknown }) => checks(card).slice(2);
        const oneOfTwo = [
          {
            check: `earlier rollbacks of ${repository} brought their metrics back within an hour`,
            status: "passed",
            detail: "1 of 2 in the last 90 days",
          },
        ];
        const third = await trouble("3", "fees_ok");
        expect(record(third)).toEqual(oneOfTwo);
        // This one's metric sends nothing at all after its rollback: the card says it cannot tell
        // (not a silent card, and not a ✓ for a metric that went quiet).
        expect(await rollBack(third)).toBe("succeeded");
        const [done] = await t.database.db.select().from(schema.cards).where(eq(schema.cards.id, third.id));
        t.clock.advance((done?.updatedAt.getTime() ?? 0) + 61 * minute - t.clock.now().getTime());
        await t.tick();
        expect(checks(await cardNow(third.id)).slice(-1)).toEqual([
          {
            check: "after the rollback, fees_ok came back",
            status: "skipped",
            detail:
              "it sent no point in the hour after it (from 10 min on, the rollout's time): nothing to judge by",
            after: true,
          },
        ]);
        // …and counts neither way in the repository's record.
        expect(record(await trouble("4", "tax_ok"))).toEqual(oneOfTwo);
      } finally {
        await setAction(id, { ...(earlier ? { url: earlier.url } : {}), enabled: false });
      }
    });
  });
});

export type { Card };
