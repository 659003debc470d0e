import { isSetAside } from "@flick/shared";
import { sha256 } from "../../lib/crypto.ts";
import { type CardUpsert, defineAgent, type SignalRow, withdrawal } from "../define.ts";
import { blast, rank, recency } from "../rank.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";
import { labelText } from "./words.ts";

export interface AlertPayload {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  generatorURL?: string;
  /** Alertmanager's notification group (its `group_by`); absent in hand-made payloads. */
  groupKey?: string;
}

/** A Sentry metric alert, as its integration's "metric_alert" webhook sends it. */
interface SentryMetricAlert {
  action?: string;
  data?: {
    description_title?: string;
    description_text?: string;
    web_url?: string;
    metric_alert?: {
      identifier?: string;
      organization_id?: string;
      projects?: string[];
      date_started?: string;
      alert_rule?: { name?: string; environment?: string | null };
    };
  };
}

/**
 * The alert a signal tells of, keyed so its later notifications find it: an Alertmanager alert as
 * it is, a Sentry metric alert (critical, warning, resolved) as one alert per incident, in a group
 * of its own. Null for a Sentry body that is not one.
 */
export function alertOf(s: SignalRow): { key: string; alert: AlertPayload } | null {
  if (s.kind.startsWith("alert.")) return { key: s.fingerprint, alert: s.payload as AlertPayload };
  const body = s.payload as SentryMetricAlert;
  const m = body.data?.metric_alert;
  if (!m?.identifier || !body.action) return null;
  const incident = `sentry:incident:${m.organization_id ?? "-"}:${m.identifier}`;
  // Sentry's documentation shows the text with "\n" written out; a live body has line breaks.
  const [summary, ...rest] = (lines(body.data?.description_text) ?? "").split("\n");
  const environment = m.alert_rule?.environment;
  return {
    key: incident,
    alert: {
      status: body.action === "resolved" ? "resolved" : "firing",
      labels: {
        alertname: m.alert_rule?.name ?? body.data?.description_title ?? "Sentry metric alert",
        ...(body.action === "resolved" ? {} : { severity: body.action }),
        ...(m.projects?.length ? { project: m.projects.join(", ") } : {}),
        ...(environment ? { environment } : {}),
      },
      annotations: {
        ...(summary ? { summary } : {}),
        ...(rest.length ? { description: rest.join("\n") } : {}),
      },
      startsAt: m.date_started ?? s.occurredAt.toISOString(),
      ...(body.data?.web_url ? { generatorURL: body.data.web_url } : {}),
      groupKey: incident,
    },
  };
}

/**
 * An annotation's text with its line breaks: templates written in single-quoted YAML send "\n"
 * written out (Sentry's documented bodies too), which would show as a backslash and an n.
 */
function lines(text: string | undefined): string | undefined {
  return text?.replace(/\\n/g, "\n").trim();
}

/** The same on one line, for a title. */
function oneLine(text: string | undefined): string | undefined {
  return lines(text)?.replace(/\s*\n\s*/g, " ");
}

/** What the card remembers of each alert of its group. */
interface AlertSeen {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  summary?: string;
}

interface GroupState {
  alerts: Record<string, AlertSeen>;
  /** How bad its latest firing card was (while muted: the rejected card), and why a card came past the mute. */
  mute?: MuteMemory<Firing>;
}

/** A group firing: its worst severity (as a label and as a rank) and how many of its alerts fire. */
interface Firing {
  label: string;
  severity: number;
  firing: number;
}

/**
 * A page past a rejected card of the group: a worse severity, or at least twice as many alerts
 * firing (and 3 more) — not the same page again.
 */
function pastRejectedPage(now: Firing, rejected: Firing): string | null {
  if (now.severity > rejected.severity)
    return `Its card was rejected at severity ${rejected.label}; now it is ${now.label}`;
  if (now.firing >= Math.max(2 * rejected.firing, rejected.firing + 3))
    return `Its card was rejected with ${rejected.firing} firing; now ${now.firing} fire`;
  return null;
}

export const SEVERITY: Record<string, number> = { critical: 1, page: 1, error: 0.8, warning: 0.5, info: 0.2 };
/** Alerts a group's card remembers; the oldest resolved ones make room first. */
const MAX_ALERTS = 200;
/** Values of a differing label named in the title before "and N more". */
const TITLE_VALUES = 4;
/**
 * Labels that say where an alert fires, in the order a title prefers one: the title names the
 * first the group's alerts share ("on web-3"); the others are in the preview and the summary.
 */
const WHERE = ["instance", "pod", "host", "node", "service", "job", "project", "namespace", "cluster"];

/**
 * One card per Alertmanager notification group: the team's own `group_by` says what is one
 * incident, so three instances of one alert firing together are one card, not three. A hand-made
 * payload without a group key makes one card per alert. A Sentry metric alert (its integration's
 * "metric_alert" webhook) is one card per incident, critical or warning until resolved. Every
 * notification lands on that card; when all its alerts are resolved it keeps the card but drops in
 * the feed.
 */
export const alertsAgent = defineAgent({
  name: "alerts",
  reads: ["alert.*", "sentry.webhook.metric_alert"],
  async run(ctx, batch) {
    const byGroup = new Map<string, SignalRow[]>();
    const alerts = new Map<SignalRow, { key: string; alert: AlertPayload }>();
    for (const s of batch) {
      const found = alertOf(s);
      if (!found) continue;
      alerts.set(s, found);
      const key = groupFingerprint(s.fingerprint, found.alert);
      byGroup.set(key, [...(byGroup.get(key) ?? []), s]);
    }
    await ctx.state.load([...byGroup.keys()]);
    const out: CardUpsert[] = [];
    for (const [fingerprint, signals] of byGroup) {
      const stored = await ctx.state.get<GroupState>(fingerprint);
      const state = stored ?? { alerts: {} };
      if (!stored && fingerprint.startsWith("alert:group:")) {
        // A group seen for the first time: an install from before cards were per group may still
        // show a card per alert of it; the group's card replaces them.
        const first = signals[0] as SignalRow;
        for (const key of new Set(signals.map((s) => alerts.get(s)?.key))) {
          if (key?.startsWith("alert:") && key !== fingerprint) out.push(withdrawal(key, first));
        }
      }
      for (const s of signals) {
        const { key, alert: a } = alerts.get(s) as { key: string; alert: AlertPayload };
        delete state.alerts[key];
        state.alerts[key] = {
          status: a.status,
          labels: a.labels,
          ...(a.annotations.summary ? { summary: a.annotations.summary } : {}),
        };
      }
      trim(state);
      ctx.state.set(fingerprint, state);

      const last = signals[signals.length - 1] as SignalRow;
      const a = (alerts.get(last) as { alert: AlertPayload }).alert;
      const all = Object.values(state.alerts);
      const firing = all.filter((x) => x.status === "firing");
      const shown = firing.length > 0 ? firing : all;
      const resolved = firing.length === 0;
      // Over before Flick ever saw it firing: nothing to tell anyone.
      if (resolved && !stored) continue;
      // Over while another card told of it (its metric's): nothing left for its own card to say,
      // and it must not come back a week later as news.
      if (resolved) {
        const open = (await ctx.openCards([fingerprint])).get(fingerprint);
        if (open && isSetAside(open)) {
          out.push(withdrawal(fingerprint, last));
          continue;
        }
      }
      const name = a.labels.alertname ?? "alert";
      const { common, differing } = splitLabels(shown.map((x) => x.labels));
      const scope = labelText(
        Object.fromEntries(Object.entries(common).filter(([k]) => k !== "alertname" && k !== "severity")),
      );
      const text = oneLine(
        a.annotations.summary ?? a.annotations.description ?? a.annotations.message ?? shown[0]?.summary,
      );
      const which = differing
        .map(([k, values]) =>
          values.length > TITLE_VALUES
            ? `${k}=${values.slice(0, TITLE_VALUES).join(", ")} and ${values.length - TITLE_VALUES} more`
            : `${k}=${values.join(", ")}`,
        )
        .join("; ");
      const count = all.length > 1 ? ` ×${shown.length}` : "";
      // The title names what differs and one place; every shared label is in the preview and the
      // summary (three "key=value" pairs made a five-line title on a phone).
      const place = WHERE.find((k) => common[k] !== undefined);
      const where = `${which ? ` (${which})` : ""}${place ? ` on ${common[place]}` : ""}`;
      const quiet = resolved ? 0 : all.length - firing.length;
      const severity = Math.max(...shown.map((x) => SEVERITY[x.labels.severity ?? ""] ?? 0.5));
      const worst = shown.find((x) => (SEVERITY[x.labels.severity ?? ""] ?? 0.5) === severity);
      // A person rejected its card: a worse page than that comes all the same, and says why.
      state.mute ??= {};
      const { why: past } = await newsPastMute(
        ctx,
        fingerprint,
        state.mute,
        resolved ? null : { label: worst?.labels.severity ?? "none", severity, firing: firing.length },
        pastRejectedPage,
      );
      ctx.state.set(fingerprint, state);
      out.push({
        fingerprint,
        kind: "insight",
        title: `${resolved ? "Resolved" : "Firing"}: ${name}${count}${where}${text ? ` — ${text}` : ""}`,
        summary: [
          lines(a.annotations.description),
          scope && `Scope: ${scope}.`,
          quiet > 0 && `${quiet} of the ${all.length} alerts in this group resolved since.`,
          past,
        ]
          .filter(Boolean)
          .join("\n\n"),
        ...rank({
          severity: resolved ? severity * 0.3 : severity,
          blastRadius: Math.max(0.3, blast(shown.length)),
          confidence: 0.9,
          recency: recency(last.occurredAt, ctx.now),
          acceptRate: await ctx.acceptRate("alerts", "alert"),
        }),
        preview: {
          type: "text",
          text: [
            Object.entries(common)
              .map(([k, v]) => `${k}: ${v}`)
              .join("\n"),
            ...(shown.length > 1
              ? [
                  shown
                    .slice(0, 20)
                    .map((x) => differing.map(([k]) => `${k}: ${x.labels[k] ?? "—"}`).join(", "))
                    .join("\n"),
                ]
              : []),
          ]
            .filter(Boolean)
            .join("\n\n"),
        },
        change: { type: "none" },
        evidence: {
          signalIds: signals.map((s) => s.id),
          firstSeen: signals[0]?.occurredAt ?? last.occurredAt,
          lastSeen: last.occurredAt,
          links:
            a.generatorURL && /^https?:\/\//.test(a.generatorURL)
              ? [{ label: "Source", url: a.generatorURL }]
              : [],
          facts: {
            alert: name,
            status: resolved ? "resolved" : "firing",
            severity: a.labels.severity ?? "none",
            ...(all.length > 1 ? { firing: firing.length, alerts: all.length } : {}),
          },
        },
        reopen: !resolved,
        ...(past ? { pastMute: true } : {}),
      });
    }
    return out;
  },
});

/** The card an alert belongs to: its notification group's, else its own. */
export function groupFingerprint(fingerprint: string, alert: AlertPayload): string {
  return alert.groupKey ? `alert:group:${sha256(alert.groupKey).slice(0, 16)}` : fingerprint;
}

/** Drops the oldest resolved alerts (then the oldest of any) past the cap. */
function trim(state: GroupState): void {
  const keys = Object.keys(state.alerts);
  let excess = keys.length - MAX_ALERTS;
  for (const k of keys) {
    if (excess <= 0) return;
    if (state.alerts[k]?.status === "resolved") {
      delete state.alerts[k];
      excess--;
    }
  }
  for (const k of Object.keys(state.alerts)) {
    if (excess-- <= 0) return;
    delete state.alerts[k];
  }
}

/** Labels every alert shares, and the others with their distinct values (sorted). */
function splitLabels(all: Record<string, string>[]): {
  common: Record<string, string>;
  differing: [string, string[]][];
} {
  const keys = [...new Set(all.flatMap((l) => Object.keys(l)))].sort();
  const common: Record<string, string> = {};
  const differing: [string, string[]][] = [];
  for (const k of keys) {
    const values = [...new Set(all.map((l) => l[k] ?? ""))];
    if (values.length === 1 && all.every((l) => k in l)) common[k] = values[0] as string;
    else if (k !== "severity") differing.push([k, values.filter(Boolean).sort()]);
  }
  return { common, differing };
}
