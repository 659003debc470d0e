import path from "node:path";
import { z } from "zod";

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

/** "true"/"1" or "false"/"0"; unset or empty means `fallback`. */
const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", ""])
    .optional()
    .transform((v) => (fallback ? v !== "false" && v !== "0" : v === "true" || v === "1"));

const urlString = (protocols: string[], what: string) =>
  z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .optional()
    .refine((v) => v === undefined || (URL.canParse(v) && protocols.includes(new URL(v).protocol)), {
      message: `must be a ${what} URL`,
    });

const wholeNumber = (fallback: number, least: 0 | 1) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < least) {
        const what = least === 0 ? "a whole number, 0 or more" : "a positive whole number";
        ctx.addIssue({ code: "custom", message: `must be ${what}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });
const positiveInt = (fallback: number) => wholeNumber(fallback, 1);

export const configSchema = z.object({
  PORT: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return 8080;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: "custom", message: `must be a port number 0-65535, got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  HOST: optionalString.default("0.0.0.0"),
  DATA_DIR: optionalString.default(".data"),
  DATABASE_URL: urlString(["postgres:", "postgresql:"], "postgres://"),
  PUBLIC_URL: urlString(["http:", "https:"], "http(s)://"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Hours a browser session lasts without use. */
  SESSION_TTL_HOURS: positiveInt(24 * 30).refine((h) => h <= 400 * 24, {
    // Browsers cap a cookie's life at 400 days, and the cookie library refuses to set a longer one.
    message: "must be at most 9600 (400 days, the longest a browser keeps a cookie)",
  }),
  /** Failed logins per email or client IP within 15 minutes before further tries get 429. */
  LOGIN_MAX_FAILURES: positiveInt(10),
  /** Largest request body the API accepts, in bytes. */
  MAX_BODY_BYTES: positiveInt(1024 * 1024),
  /** Largest signal a sender may post, in bytes (after decompression too). */
  INGEST_MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  /** Signals an agent worker claims at once. */
  WORKER_BATCH_SIZE: positiveInt(200),
  /** Batches a process works on at once (PostgreSQL only; the embedded database uses one). */
  WORKER_CONCURRENCY: positiveInt(2),
  /** Seconds a worker's claim on a batch lasts; a crashed worker's batch is retried after it. */
  WORKER_LEASE_SECONDS: positiveInt(60),
  /** Attempts before a failing signal is parked as a dead letter. */
  WORKER_MAX_ATTEMPTS: positiveInt(5),
  /**
   * Days a processed signal is kept (every metric point is one); 0 keeps them forever. Signals a
   * card's evidence names, parked ones and those not yet processed are kept whatever their age.
   */
  SIGNAL_RETENTION_DAYS: wholeNumber(30, 0),
  /** Run agent workers in this process (turn off for ingest-only processes). */
  WORKERS: flag(true),
  /** Seconds after a decision during which it can be undone; accepted changes run only after it. */
  UNDO_WINDOW_SECONDS: positiveInt(8),
  /** Hours a rejected card's fingerprint stays muted for the team. */
  MUTE_HOURS: positiveInt(24 * 7),
  /** Seconds an executor's claim on an execution lasts before another process may take it over. */
  EXECUTOR_LEASE_SECONDS: positiveInt(120),
  /** Local git repositories patches may be applied to: "name=/path/to/repo,other=/path". */
  GIT_REPOS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const repos: Record<string, string> = {};
      for (const part of (v ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [name, ...rest] = part.split("=");
        const dir = rest.join("=");
        if (!name || !dir || !/^[\w.-]+$/.test(name)) {
          ctx.addIssue({ code: "custom", message: `"${part}" is not name=/path/to/repo` });
          return z.NEVER;
        }
        repos[name] = dir;
      }
      return repos;
    }),
  /** Push the branch a patch was committed on (to the repository's default remote). */
  GIT_PUSH: flag(false),
  /** Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy in front of Flick. */
  TRUST_PROXY: flag(false),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: urlString(["http:", "https:"], "http(s)://"),
  OPENAI_MODEL: optionalString.default("gpt-4.1-mini"),
  OPENAI_TRANSCRIBE_MODEL: optionalString.default("whisper-1"),
  /** Longest a single model or transcription call may take. */
  OPENAI_TIMEOUT_MS: positiveInt(60_000),
  /** Price of the model per million tokens, for the usage report's cost (unset: tokens only). */
  OPENAI_USD_PER_MILLION_TOKENS: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? Number(v) : undefined))
    .refine((v) => v === undefined || (Number.isFinite(v) && v >= 0), { message: "must be a number ≥ 0" }),
  /** Model tokens follow-up revisions may use per UTC day (0: no limit); past it, plain rules answer. */
  OPENAI_DAILY_TOKENS: wholeNumber(0, 0),
  /** The GIT_REPOS name the Fixer proposes patches for (needs a model); unset: no Fixer. */
  FIXER_REPOSITORY: optionalString,
  /** Run on the Fixer's proposals in a scratch worktree, e.g. "npm test"; unset: applies-only check. */
  FIXER_TEST_COMMAND: optionalString,
  FIXER_TEST_TIMEOUT_SECONDS: positiveInt(300),
  /** Model calls in one fix conversation, tool steps included. */
  FIXER_MAX_STEPS: positiveInt(16),
  /** Model for the Fixer (default OPENAI_MODEL). */
  FIXER_MODEL: optionalString,
  /** Agents whose cards the Fixer tries to fix, comma-separated. */
  FIXER_AGENTS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "errors,ci")
        .split(",")
        .map((a) => a.trim())
        .filter(Boolean),
    ),
  /** Model tokens the Fixer may use per UTC day (0: no limit); past it, it waits for the next day. */
  FIXER_DAILY_TOKENS: wholeNumber(0, 0),
  /** With a model configured, write each card's claim and why with it ("false": keep the templates). */
  SUMMARIZER: flag(true),
  /** Model tokens the Summarizer may use per UTC day (0: no limit). */
  SUMMARIZER_DAILY_TOKENS: wholeNumber(0, 0),
  /** Accept http:// push endpoints (a local push service); real ones are https, and only those by default. */
  PUSH_ALLOW_HTTP: flag(false),
  GITHUB_TOKEN: optionalString,
  GITHUB_API_URL: urlString(["http:", "https:"], "http(s)://").default("https://api.github.com"),
  WEB_DIST: optionalString,
});

type RawConfig = z.output<typeof configSchema>;

export interface Config extends Omit<RawConfig, "DATA_DIR" | "WEB_DIST"> {
  DATA_DIR: string;
  WEB_DIST: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once. Every bad variable is listed, not just the first. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((k) => [k, env[k]]));
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? "environment");
        return `${key}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  if (c.FIXER_REPOSITORY && !c.GIT_REPOS?.[c.FIXER_REPOSITORY])
    throw new ConfigError([`FIXER_REPOSITORY: "${c.FIXER_REPOSITORY}" is not one of GIT_REPOS`]);
  return {
    ...c,
    DATA_DIR: path.resolve(c.DATA_DIR),
    WEB_DIST: c.WEB_DIST === undefined ? undefined : path.resolve(c.WEB_DIST),
  };
}

/** Secrets that must never reach a log line; used by the logger's redaction. */
export function secretValues(config: Config): string[] {
  return [config.OPENAI_API_KEY, config.GITHUB_TOKEN].filter((v): v is string => Boolean(v));
}
