/**
 * Sample signals for "Replay sample signals": what a small shop's sources would send over a day,
 * written as their senders write it (GitHub's webhook payloads, Sentry's store API, the metrics
 * and feedback formats), with times ending now. The built-in agents read them like any others and
 * make their own cards; nothing here is a card.
 */

const minute = 60_000;
const STEP = 5 * minute;
/** Two days of five-minute points: the metric detector learns a day's rhythm before it judges. */
const HISTORY = 576;

export interface MetricPoint {
  name: string;
  labels: Record<string, string>;
  ts: string;
  value: number;
}

/** One delivery to a source: the GitHub event name for GitHub, else the body alone. */
export type SampleDelivery =
  | { source: "github"; event: string; body: Record<string, unknown> }
  | { source: "sentry"; body: Record<string, unknown> }
  | { source: "metrics"; body: MetricPoint[] }
  | { source: "feedback"; body: { id: string; text: string; author: string; rating: number; ts: string }[] };

/** The demo sources, by the key deliveries name them with, and what each is set up with. */
export const SAMPLE_SOURCES = {
  github: { kind: "github", name: "Demo GitHub", settings: {} },
  sentry: { kind: "sentry", name: "Demo Sentry", settings: {} },
  metrics: {
    kind: "metrics",
    name: "Demo metrics",
    // No action is set for the sample metrics: their cards propose an issue here.
    settings: { repository: "acme/ops" },
  },
  feedback: {
    kind: "feedback",
    name: "Demo feedback",
    // Short reviews of one wish share few words besides it: this source joins them at a lower
    // cosine than the default 0.3, as a team would set it in the source's settings.
    settings: { clusterThreshold: 5, similarity: 0.2, repository: "acme/app", names: ["Acme"] },
  },
} as const;

export type SampleSourceKey = keyof typeof SAMPLE_SOURCES;

const iso = (t: number) => new Date(t).toISOString();

/** A steady series with a daily wave and a little noise (deterministic), ending just before `end`. */
function history(name: string, labels: Record<string, string>, end: number, f: (i: number) => number) {
  return Array.from({ length: HISTORY }, (_, i) => ({
    name,
    labels,
    ts: iso(end - (HISTORY - i) * STEP),
    value: Math.round(f(i) * 100) / 100,
  }));
}

const wave = (i: number) => Math.sin((2 * Math.PI * i) / 288);
/** A fixed pseudo-random 0..1 per index (the usual shader hash), so every replay is the same series. */
const jitter = (i: number, salt = 0) => {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43_758.5453;
  return x - Math.floor(x);
};

const REPO = {
  full_name: "acme/shop",
  name: "shop",
  default_branch: "main",
  html_url: "https://github.com/acme/shop",
  owner: { login: "acme" },
};

/**
 * The deliveries, oldest story first. `now` is the moment of the replay (epoch ms).
 *
 * 1. A deploy to main, then a new TypeError in signup and signup_success falling minutes later:
 *    one card proposing the rollback, all three as evidence.
 * 2. No deploy: the payment provider slows down, every API instance waits on it within minutes,
 *    and one of them starts timing out: one card for the four series.
 * 3. Dependabot's patch bump with its checks green: a merge card.
 * 4. Customers asking for the same thing in their own words: a feedback cluster's card.
 */
export function sampleDeliveries(now: number): SampleDelivery[] {
  const out: SampleDelivery[] = [];

  // 1. The deploy story.
  const deployAt = now - 20 * minute;
  out.push({
    source: "metrics",
    body: history("signup_success", { service: "signup" }, deployAt, (i) => 96.5 + wave(i) + jitter(i) / 2),
  });
  out.push({
    source: "github",
    event: "push",
    body: {
      ref: "refs/heads/main",
      before: "5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b",
      after: "c0ffee4d3c2b1a09f8e7d6c5b4a39281706f5e4d",
      created: false,
      deleted: false,
      forced: false,
      compare: "https://github.com/acme/shop/compare/5e4d3c2b1a09...c0ffee4d3c2b",
      head_commit: {
        id: "c0ffee4d3c2b1a09f8e7d6c5b4a39281706f5e4d",
        message: "Signup: check email domains on the server",
        timestamp: iso(deployAt),
        author: { name: "Grace", username: "grace" },
      },
      repository: { ...REPO, pushed_at: Math.floor(deployAt / 1000) },
      pusher: { name: "grace" },
      sender: { login: "grace", type: "User" },
    },
  });
  for (let i = 0; i < 7; i++) {
    out.push({
      source: "sentry",
      body: {
        event_id: `5a3b1e${String(i).padStart(2, "0")}c9d84f2e8b7a6c5d4e3f2a1b`,
        timestamp: iso(deployAt + (3 + i) * minute),
        platform: "node",
        level: "error",
        environment: "production",
        release: "shop@c0ffee4",
        transaction: "POST /signup",
        user: { id: `customer-${101 + i}` },
        exception: {
          values: [
            {
              type: "TypeError",
              value: "Cannot read properties of undefined (reading 'split')",
              stacktrace: {
                frames: [
                  {
                    function: "handleSignup",
                    module: "routes/signup",
                    filename: "src/routes/signup.ts",
                    lineno: 42,
                    in_app: true,
                  },
                  {
                    function: "emailDomain",
                    module: "lib/email",
                    filename: "src/lib/email.ts",
                    lineno: 9,
                    in_app: true,
                    context_line: "  return address.split('@')[1].toLowerCase();",
                  },
                ],
              },
            },
          ],
        },
      },
    });
  }
  out.push({
    source: "metrics",
    body: [
      { name: "signup_success", labels: { service: "signup" }, ts: iso(deployAt + 6 * minute), value: 58.2 },
    ],
  });

  // 2. The slow dependency.
  const slowAt = now - 90 * minute;
  const instances = ["api-1", "api-2", "api-3"];
  out.push({
    source: "metrics",
    body: instances.flatMap((instance, k) => [
      ...history(
        "payment_latency_ms",
        { instance },
        slowAt,
        (i) => 180 + 15 * wave(i) + 17 * jitter(i, k + 1),
      ),
      { name: "payment_latency_ms", labels: { instance }, ts: iso(slowAt + k * minute), value: 240 + 6 * k },
      // Each instance's next point, still slow: a replica's break is told once it sends a step
      // later (a pod drained away sends its last values falling, then nothing).
      {
        name: "payment_latency_ms",
        labels: { instance },
        ts: iso(slowAt + k * minute + STEP),
        value: 244 + 6 * k,
      },
    ]),
  });
  out.push({
    source: "metrics",
    body: [
      ...history("payment_timeouts", { instance: "api-2" }, slowAt, (i) => 2 + Math.floor(3 * jitter(i, 7))),
      { name: "payment_timeouts", labels: { instance: "api-2" }, ts: iso(slowAt + 3 * minute), value: 41 },
      {
        name: "payment_timeouts",
        labels: { instance: "api-2" },
        ts: iso(slowAt + 3 * minute + STEP),
        value: 44,
      },
    ],
  });

  // 3. A dependency bot's patch bump, checks green.
  const sha = "d3ab0f5e4d3c2b1a09f8e7d6c5b4a39281706f5e";
  const pr = {
    number: 57,
    title: "Bump zod from 4.1.11 to 4.1.12",
    body: "Bumps [zod](https://github.com/colinhacks/zod) from 4.1.11 to 4.1.12.\n- [Release notes](https://github.com/colinhacks/zod/releases)",
    state: "open",
    draft: false,
    merged: false,
    mergeable: true,
    html_url: "https://github.com/acme/shop/pull/57",
    user: { login: "dependabot[bot]", type: "Bot" },
    head: { sha, ref: "dependabot/npm_and_yarn/zod-4.1.12" },
    base: { ref: "main" },
    additions: 4,
    deletions: 4,
    changed_files: 2,
  };
  out.push({
    source: "github",
    event: "pull_request",
    body: { action: "opened", number: pr.number, pull_request: pr, repository: REPO, sender: pr.user },
  });
  for (const [id, name] of [
    [9001, "test"],
    [9002, "lint"],
  ] as const) {
    out.push({
      source: "github",
      event: "check_run",
      body: {
        action: "completed",
        check_run: {
          id,
          name,
          head_sha: sha,
          status: "completed",
          conclusion: "success",
          pull_requests: [{ number: pr.number }],
        },
        repository: REPO,
        sender: { login: "github-actions[bot]", type: "Bot" },
      },
    });
  }

  // 4. A week of reviews: most say nothing to act on, a few report one-off troubles, and six
  // customers ask for the same thing in their own words.
  const reviews: [string, number][] = [
    ["Love it, use it every day", 5],
    ["Please add a dark mode, the white screen is blinding at night", 4],
    ["The checkout page froze when I tried to pay with PayPal", 2],
    ["Works great, thanks!", 5],
    ["Would love a dark mode option for the app, my eyes hurt at night", 4],
    ["Five stars, quick delivery and easy returns", 5],
    ["Dark mode please! Using the app at night is painful without a dark theme", 3],
    ["Can't log in since yesterday, it says my password is wrong but it isn't", 1],
    ["Good prices", 4],
    ["Great app but it really needs a dark mode for night use", 4],
    ["My order history is empty after the update", 2],
    ["Best shopping app I have tried", 5],
    ["Any plans for dark mode? The bright white screen at night is too much", 4],
    ["Search is fast and the photos are nice", 5],
    ["I wish there was a dark mode, the screen is way too bright at night", 4],
    ["ok", 3],
  ];
  out.push({
    source: "feedback",
    body: reviews.map(([text, rating], i) => ({
      id: `review-${i + 1}`,
      text,
      author: `customer-${201 + i}`,
      rating,
      ts: iso(now - (reviews.length - i) * 9 * 60 * minute),
    })),
  });
  return out;
}
