import type { Change } from "@flick/shared";
import { type AgentContext, type CardUpsert, defineAgent, type SignalRow, withdrawal } from "../define.ts";
import { rank, recency } from "../rank.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";

interface Repository {
  full_name: string;
  default_branch?: string;
}

interface DependabotAlert {
  number: number;
  html_url?: string;
  dependency: { package: { ecosystem: string; name: string }; manifest_path?: string; scope?: string | null };
  security_advisory: {
    ghsa_id: string;
    cve_id?: string | null;
    summary: string;
    description?: string;
    severity: string;
    withdrawn_at?: string | null;
  };
  security_vulnerability: {
    vulnerable_version_range?: string;
    first_patched_version?: { identifier: string } | null;
  };
}

interface CodeScanningAlert {
  number: number;
  html_url?: string;
  rule: {
    id: string;
    severity?: string | null;
    security_severity_level?: string | null;
    description: string;
    full_description?: string;
  };
  tool: { name: string };
  most_recent_instance?: Instance | null;
  instances?: Instance[];
}

interface Instance {
  ref?: string;
  location?: { path?: string; start_line?: number };
  message?: { text?: string };
}

/** Advisory and rule severities, as GitHub names them, to the rank's 0..1. */
const SEVERITY: Record<string, number> = {
  critical: 1,
  high: 0.8,
  error: 0.8,
  medium: 0.5,
  moderate: 0.5,
  warning: 0.4,
  low: 0.3,
  note: 0.2,
};

/** An advisory's or rule's severity on the rank's 0..1 scale (an unknown one counts as medium). */
export function severityOf(level: string): number {
  return SEVERITY[level] ?? 0.5;
}

/** The alert is over: fixed, or dismissed by a person or by GitHub. */
const OVER = new Set(["fixed", "dismissed", "auto_dismissed", "closed_by_user"]);
/** The alert is (again) a problem. */
const OPEN = new Set(["created", "reopened", "reopened_by_user", "auto_reopened", "appeared_in_branch"]);

/** An open Dependabot alert, as the pull request agent reads it to tell which bump fixes what. */
export interface OpenVulnerability {
  alert: number;
  severity: string;
  advisory: string;
  cve?: string;
  summary: string;
  range?: string;
  /** The first patched version, when there is one. */
  fixedIn?: string;
  url?: string;
}

/** What the security agent keeps per package of a repository: where it is used, its open alerts. */
interface PackageState {
  ecosystem: string;
  manifest?: string;
  runtime: boolean;
  open: OpenVulnerability[];
  /** The advisories its latest card told (while muted: the rejected card's), and why a card came past the mute. */
  mute?: MuteMemory<string[]>;
}

/** Advisories past a rejected card of the package: one it did not tell — not the same proposal. */
function pastRejectedAdvisories(now: string[], rejected: string[]): string | null {
  const added = now.filter((a) => !rejected.includes(a));
  return added.length
    ? `Its card was rejected with ${rejected.join(", ")}; ${added.join(", ")} ${added.length > 1 ? "are" : "is"} new`
    : null;
}

/** The security agent's state key for a package's open Dependabot alerts in a repository. */
export const vulnerabilityKey = (repository: string, pkg: string) => `open:${repository}:${pkg}`;

/** A dependency update a bot's pull request makes: the package and the version it moves to. */
export interface Bump {
  pkg: string;
  to: string;
}

/**
 * The updates a dependency bot's pull request makes, from its title ("Bump semver from 7.3.8 to
 * 7.5.2", "Update dependency semver to v7.5.2") and, for grouped updates ("Bump the npm group with
 * 3 updates"), its body: Dependabot's "Updates `semver` from 7.3.8 to 7.5.2" lines and Renovate's
 * table rows ("| [semver](…) | … | `7.3.8` -> `7.5.2` |").
 */
export function bumpsIn(title: string, body?: string | null): Bump[] {
  const found = new Map<string, string>();
  const add = (pkg: string | undefined, to: string | undefined) => {
    if (pkg && to && !found.has(pkg)) found.set(pkg, to);
  };
  const single =
    /\bbump (\S+) from \S+ to v?(\d[\w.+-]*)/i.exec(title) ??
    /\bupdate dependency (\S+) to v?(\d[\w.+-]*)/i.exec(title);
  if (single) add(single[1], single[2]);
  const text = (body ?? "").slice(0, 100_000).replace(/\r\n?/g, "\n");
  for (const m of text.matchAll(
    /^\s*(?:Updates|Bumps) `?\[?([^`\]\s]+)\]?(?:\([^)]*\))?`? from \S+ to v?(\d[\w.+-]*?)\.?$/gm,
  ))
    add(m[1], m[2]);
  for (const m of text.matchAll(
    /^\|\s*\[?([^\]|()\s]+)\]?(?:\([^)]*\))?\s*\|[^\n]*?`v?[\w.+-]+`\s*(?:->|→)\s*`v?(\d[\w.+-]*)`/gm,
  ))
    add(m[1], m[2]);
  return [...found].map(([pkg, to]) => ({ pkg, to }));
}

/** The Dependabot card of a package in a repository (one per package, all its advisories). */
export const dependabotFingerprint = (repository: string, pkg: string) =>
  `github:dependabot:${repository}:${pkg}`;

/** What a bump fixes: the package's open alerts whose first patched version it reaches. */
export interface PackageFix {
  pkg: string;
  fixes: OpenVulnerability[];
  /** Alerts still open on the package: when every one is fixed, the bump is the whole answer. */
  open: number;
  /** The open alerts this bump does not fix (its version is short of their fix, or none exists). */
  left: OpenVulnerability[];
}

/** The open Dependabot alerts a dependency bot's pull request fixes, per package it bumps. */
export async function vulnerabilitiesFixedBy(
  ctx: AgentContext,
  repository: string,
  bumps: Bump[],
): Promise<PackageFix[]> {
  const out: PackageFix[] = [];
  for (const { pkg, to } of bumps) {
    const state = await ctx.state.peek<PackageState>("security", vulnerabilityKey(repository, pkg));
    const open = state?.open ?? [];
    const fixes = open.filter((v) => v.fixedIn !== undefined && compareVersions(to, v.fixedIn) >= 0);
    const left = open.filter((v) => !fixes.includes(v));
    if (fixes.length) out.push({ pkg, fixes, open: open.length, left });
  }
  return out;
}

/** The card ranked: severity and reach from the alert, the team's accept rate for the family. */
async function ranked(
  ctx: AgentContext,
  card: Proposal,
  signal: SignalRow,
  family: string,
  reopen: boolean,
): Promise<CardUpsert> {
  return {
    ...card.upsert,
    ...rank({
      severity: card.severity,
      blastRadius: card.blast,
      confidence: 0.9,
      recency: recency(signal.occurredAt, ctx.now),
      acceptRate: await ctx.acceptRate("security", family),
    }),
    reopen,
  };
}

/** Numeric parts compared in order ("7.10.0" > "7.9.1"); a pre-release comes before its release. */
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (v.split(/[-+]/)[0] ?? "").split(".").map((x) => Number.parseInt(x, 10) || 0);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  const pre = (v: string) => (/-/.test(v) ? 1 : 0);
  return pre(b) - pre(a);
}

/**
 * Security alerts GitHub raises on a repository: Dependabot's vulnerable dependencies and code
 * scanning findings (CodeQL and others) on the default branch — security rules and errors, not a
 * linter's notes. Each is a card proposing an issue that says what to change (upgrade to the
 * patched version; fix the flagged line); a fixed or dismissed alert takes its card back.
 */
export const securityAgent = defineAgent({
  name: "security",
  reads: ["github.dependabot_alert", "github.code_scanning_alert"],
  async run(ctx, batch) {
    const out: CardUpsert[] = [];
    for (const signal of batch) {
      const p = signal.payload as { action: string; repository: Repository; alert: unknown };
      if (signal.kind === "github.dependabot_alert") {
        // One card per package: one upgrade fixes all its advisories, and enabling Dependabot on a
        // repository (an alert per advisory) is not a flood of cards.
        const alert = p.alert as DependabotAlert;
        const pkg = await remember(ctx, p.action, p.repository, alert);
        const fingerprint = dependabotFingerprint(p.repository.full_name, alert.dependency.package.name);
        if (pkg.open.length === 0) {
          out.push(withdrawal(fingerprint, signal));
          continue;
        }
        // A person rejected the package's card: an advisory it did not tell comes all the same.
        pkg.mute ??= {};
        const { why: past } = await newsPastMute(
          ctx,
          fingerprint,
          pkg.mute,
          OPEN.has(p.action) ? pkg.open.map((v) => v.advisory) : null,
          pastRejectedAdvisories,
        );
        ctx.state.set(vulnerabilityKey(p.repository.full_name, alert.dependency.package.name), pkg);
        const card = packageCard(fingerprint, alert.dependency.package.name, signal, p.repository, pkg);
        if (past) card.upsert = { ...card.upsert, summary: `${card.upsert.summary} ${past}`, pastMute: true };
        // A new advisory is news even where the package's card was decided.
        out.push(await ranked(ctx, card, signal, "github:dependabot", OPEN.has(p.action)));
        continue;
      }
      if (OVER.has(p.action)) {
        out.push(withdrawal(signal.fingerprint, signal));
        continue;
      }
      if (!OPEN.has(p.action)) continue;
      const card = codeScanningCard(signal, p.repository, p.alert as CodeScanningAlert);
      if (card) out.push(await ranked(ctx, card, signal, "github:code-scanning", p.action !== "created"));
    }
    return out;
  },
});

/**
 * Keeps each package's open Dependabot alerts (for its card and for the pull request agent) and
 * returns them. A withdrawn advisory is not one.
 */
async function remember(
  ctx: AgentContext,
  action: string,
  repo: Repository,
  a: DependabotAlert,
): Promise<PackageState> {
  const key = vulnerabilityKey(repo.full_name, a.dependency.package.name);
  const stored = await ctx.state.get<PackageState>(key);
  const open = (stored?.open ?? []).filter((v) => v.alert !== a.number);
  const adv = a.security_advisory;
  if (OPEN.has(action) && !adv.withdrawn_at) {
    const patched = a.security_vulnerability.first_patched_version?.identifier;
    const range = a.security_vulnerability.vulnerable_version_range;
    open.push({
      alert: a.number,
      severity: adv.severity,
      advisory: adv.ghsa_id,
      ...(adv.cve_id ? { cve: adv.cve_id } : {}),
      summary: adv.summary,
      ...(range ? { range } : {}),
      ...(patched ? { fixedIn: patched } : {}),
      ...(a.html_url ? { url: a.html_url } : {}),
    });
  }
  const state: PackageState = {
    ecosystem: a.dependency.package.ecosystem,
    ...(a.dependency.manifest_path ? { manifest: a.dependency.manifest_path } : {}),
    runtime: a.dependency.scope !== "development",
    open,
    ...(stored?.mute ? { mute: stored.mute } : {}),
  };
  ctx.state.set(key, state);
  return state;
}

interface Proposal {
  upsert: Omit<CardUpsert, "priority">;
  severity: number;
  blast: number;
}

function link(url: string | undefined, label: string) {
  return url && /^https:\/\//.test(url) ? [{ label, url }] : [];
}

/** The package's card: its open advisories, the upgrade that fixes them all. */
function packageCard(
  fingerprint: string,
  pkg: string,
  signal: SignalRow,
  repo: Repository,
  p: PackageState,
): Proposal {
  const worst = p.open.reduce((w, v) => (severityOf(v.severity) > severityOf(w.severity) ? v : w));
  // The upgrade that fixes all of them: the highest first patched version, when each has one.
  const unfixed = p.open.filter((v) => !v.fixedIn);
  const target = unfixed.length
    ? undefined
    : p.open.map((v) => v.fixedIn as string).reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));
  const one = p.open.length === 1 ? worst : null;
  const ids = (v: OpenVulnerability) => [v.advisory, v.cve].filter(Boolean).join(", ");
  const where = `${p.ecosystem} package${p.manifest ? ` in ${p.manifest}` : ""}, ${p.runtime ? "shipped with the app" : "a development dependency"}`;
  const ask = target ? `upgrade to ${target}?` : "no fixed version yet";
  const lines = p.open.map(
    (v) =>
      `- ${v.summary} (${v.severity}; ${ids(v)})${v.fixedIn ? `, fixed in ${v.fixedIn}` : ", no fix yet"}`,
  );
  const change: Change = {
    type: "github",
    operation: "create_issue",
    repository: repo.full_name,
    params: {
      title: target
        ? `Upgrade ${pkg} to ${target} (${p.open.map((v) => v.advisory).join(", ")})`
        : `${pkg}: ${one ? one.summary : `${p.open.length} vulnerabilities`} (${p.open.map((v) => v.advisory).join(", ")})`,
      body: [
        `Dependabot: ${p.open.length === 1 ? "a vulnerability" : `${p.open.length} vulnerabilities`} in ${pkg} — ${where}.`,
        lines.join("\n"),
        target
          ? `Upgrading ${pkg} to ${target} or later fixes ${p.open.length === 1 ? "it" : "them all"}.`
          : "",
        p.open
          .map((v) => v.url ?? "")
          .filter(Boolean)
          .join("\n"),
      ]
        .filter(Boolean)
        .join("\n\n"),
      labels: ["security"],
    },
  };
  return {
    severity: severityOf(worst.severity),
    blast: p.runtime ? 0.6 : 0.2,
    upsert: {
      fingerprint,
      kind: "issue",
      // "semver < 7.5.2: vulnerable to Regular Expression Denial of Service (medium) — upgrade to
      // 7.5.2?" (advisories often start with the package's name; it is said once), or
      // "semver: 2 vulnerabilities (worst high) — upgrade to 7.5.3?"
      title: one
        ? `${pkg}${one.range ? ` ${one.range}` : ""}: ${withoutName(one.summary, pkg)} (${one.severity}) — ${ask}`
        : `${pkg}: ${p.open.length} vulnerabilities (worst ${worst.severity}) — ${ask}`,
      summary: [
        one ? `${where}; ${ids(one)}.` : `${where}:`,
        ...(one ? [] : lines),
        `${target ? `Fixed in ${target}.` : "No fixed version for every one yet."} Accept opens an issue in ${repo.full_name} to ${target ? "upgrade it" : "track it"}.`,
      ].join(one ? " " : "\n"),
      // What to do first, then each advisory in a line: "semver → 7.5.2", "Regular Expression
      // Denial of Service · medium · GHSA-…".
      preview: {
        type: "text",
        text: [
          target ? `${pkg} → ${target}` : `${pkg}: no fixed version yet`,
          ...p.open.map((v) => `${withoutName(v.summary, pkg)} · ${v.severity} · ${v.advisory}`),
        ].join("\n"),
      },
      change,
      evidence: {
        signalIds: [signal.id],
        firstSeen: signal.occurredAt,
        lastSeen: signal.occurredAt,
        links: p.open.flatMap((v) => link(v.url, `Alert #${v.alert}`)),
        facts: {
          package: pkg,
          severity: worst.severity,
          advisories: p.open.map((v) => v.advisory).join(", "),
          ...(one?.cve ? { cve: one.cve } : {}),
          ...(target ? { fixedIn: target } : {}),
          scope: p.runtime ? "runtime" : "development",
        },
        replaceFacts: true,
      },
      verification: [
        {
          check: "a fixed version is published",
          status: target ? "passed" : "failed",
          detail: target ? `${pkg} ${target}` : `none yet for ${unfixed.map((v) => v.advisory).join(", ")}`,
        },
        {
          check: "the advisory stands",
          status: "passed",
          detail: `${p.open.map((v) => v.advisory).join(", ")}, not withdrawn`,
        },
      ],
    },
  };
}

function codeScanningCard(signal: SignalRow, repo: Repository, a: CodeScanningAlert): Proposal | null {
  const defaultRef = `refs/heads/${repo.default_branch ?? "main"}`;
  // A finding only on a pull request's branch is the pull request's business; the default
  // branch's findings are the team's.
  const instance =
    a.most_recent_instance?.ref === defaultRef
      ? a.most_recent_instance
      : a.instances?.find((i) => i.ref === defaultRef);
  if (!instance) return null;
  // A security rule (it has a security severity) or an error; a linter's note or warning is code
  // style, not a card.
  if (!a.rule.security_severity_level && a.rule.severity !== "error") return null;
  const at = instance.location?.path
    ? `${instance.location.path}${instance.location.start_line ? `:${instance.location.start_line}` : ""}`
    : "";
  const level = a.rule.security_severity_level ?? a.rule.severity ?? "warning";
  const message = instance.message?.text?.trim();
  return {
    severity: severityOf(level),
    blast: 0.4,
    upsert: {
      fingerprint: signal.fingerprint,
      kind: "issue",
      title: `${a.tool.name}: ${a.rule.description}${at ? ` in ${at}` : ""}`,
      summary: `${a.rule.full_description ?? a.rule.description} (${a.rule.id}, ${level}). Accept opens an issue in ${repo.full_name} to fix it.`,
      preview: { type: "text", text: [at, message || a.rule.description].filter(Boolean).join("\n") },
      change: {
        type: "github",
        operation: "create_issue",
        repository: repo.full_name,
        params: {
          title: `${a.rule.description}${at ? ` in ${at}` : ""}`,
          body: [
            `${a.tool.name} alert #${a.number} (${a.rule.id}, ${level}) on ${repo.default_branch ?? "main"}${at ? ` at \`${at}\`` : ""}.`,
            message ?? "",
            a.rule.full_description ?? "",
            a.html_url ?? "",
          ]
            .filter(Boolean)
            .join("\n\n"),
          labels: ["security"],
        },
      },
      evidence: {
        signalIds: [signal.id],
        firstSeen: signal.occurredAt,
        lastSeen: signal.occurredAt,
        links: link(a.html_url, "Alert"),
        facts: { tool: a.tool.name, rule: a.rule.id, severity: level, ...(at ? { at } : {}) },
      },
      verification: [
        {
          check: "found on the default branch",
          status: "passed",
          detail: `${repo.default_branch ?? "main"}${at ? ` at ${at}` : ""}`,
        },
      ],
    },
  };
}

/** "semver vulnerable to ReDoS" → "vulnerable to ReDoS"; other summaries as they are. */
function withoutName(summary: string, pkg: string): string {
  const rest = summary.toLowerCase().startsWith(`${pkg.toLowerCase()} `) ? summary.slice(pkg.length + 1) : "";
  return /^[a-z]/i.test(rest) ? rest : summary;
}
