import type { Mute, Source, SourceKind, StrayRequest, User } from "@flick/shared";
import { createResource, createSignal, For, onMount, Show } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { momentLabel } from "../../lib/chart-axis.ts";
import { mappedMetrics, remoteWriteConfig } from "../../lib/prometheus.ts";
import { ActionsSection } from "./ActionsSection.tsx";
import { FailedSignalsSection } from "./FailedSignalsSection.tsx";
import { ModelUseSection } from "./ModelUseSection.tsx";
import { NotificationsSection } from "./NotificationsSection.tsx";
import { PrometheusHistory } from "./PrometheusHistory.tsx";
import { apiAction, CopyField, Messages } from "./parts.tsx";
import styles from "./Settings.module.css";
import { SourceSettings } from "./SourceSettings.tsx";

const kinds: { kind: SourceKind; label: string }[] = [
  { kind: "github", label: "GitHub webhook" },
  { kind: "sentry", label: "Sentry (DSN or integration webhook)" },
  { kind: "metrics", label: "Metrics (JSON points or Prometheus remote write)" },
  { kind: "alertmanager", label: "Prometheus Alertmanager" },
  { kind: "feedback", label: "Customer feedback (JSON or CSV)" },
  { kind: "webhook", label: "Any JSON webhook" },
];

/** How the sender proves itself, in words a person pastes from. */
function howToSend(s: Source): string {
  switch (s.kind) {
    case "github":
      return "Payload URL below, content type application/json, and this secret as the webhook secret. Events: pushes, pull requests, reviews, check runs, statuses, workflow jobs and runs, releases, deployment statuses, issues, Dependabot and code scanning alerts.";
    case "sentry":
      return "Point an SDK at the DSN; or, in a Sentry internal integration, use the URL as its webhook URL and this secret as its client secret, and subscribe to issue, error, comment and Seer webhooks (alert rules may send to it too).";
    case "metrics":
      return "POST JSON points to the URL with the header Authorization: Bearer <secret>, or let Prometheus send them with the remote_write below. Each series is judged against its own past, a minute at a time when it comes more often: it can break from its 300th point on (5 hours at a minute), sooner when its history is loaded first (below, or posted as JSON).";
    default:
      return "POST to the URL with the header Authorization: Bearer <secret>.";
  }
}

/** The sections an admin's settings page has, by their headings' ids. */
const ADMIN_SECTIONS = [
  ["push-title", "Notifications"],
  ["sources-title", "Sources"],
  ["failed-title", "Signals that failed"],
  ["model-title", "Model use"],
  ["actions-title", "Actions"],
  ["team-title", "Team"],
  ["mutes-title", "Muted proposals"],
] as const;

/**
 * Settings: everyone's notifications; for admins also the sources with what to paste into the
 * sender, the team, and muted proposals.
 */
export function SettingsView(props: { admin: boolean }) {
  let kindField: HTMLSelectElement | undefined;
  // Arriving from the empty feed's "Connect a source": the sources form in view, its first field ready.
  onMount(() => {
    if (window.location.hash !== "#sources" || !kindField) return;
    kindField.scrollIntoView({ block: "center" });
    kindField.focus();
  });
  const admin = () => props.admin || undefined;
  // Arriving from a metric card's "Set an action for … instead": the source whose settings chose the
  // card's proposal opens at that metric; a card that does not name one (made before cards did)
  // opens the metrics source that sent the metric.
  const params = new URLSearchParams(window.location.search);
  const wantedMetric = params.get("metric") ?? undefined;
  const wantedSource = params.get("source") ?? undefined;
  const [sources, { refetch: refetchSources }] = createResource(admin, () =>
    request<{ sources: Source[]; strays: StrayRequest[] }>("/api/sources"),
  );
  const [users] = createResource(admin, () => request<{ users: User[] }>("/api/users"));
  const metricFor = (s: Source) => {
    if (s.kind !== "metrics" || !wantedMetric) return undefined;
    const named = sources()?.sources.some((x) => x.id === wantedSource && x.kind === "metrics");
    return !named || s.id === wantedSource ? wantedMetric : undefined;
  };
  const [mutes, { refetch: refetchMutes }] = createResource(admin, () =>
    request<{ mutes: Mute[] }>("/api/mutes"),
  );
  const [error, setError] = createSignal("");
  const [invite, setInvite] = createSignal("");
  const [notice, setNotice] = createSignal("");
  // Settings as last saved from each source's form (the list is not fetched again: forms stay open).
  const [savedSettings, setSavedSettings] = createSignal<Record<string, Source["settings"]>>({});

  const run = async (f: () => Promise<unknown>) => {
    setError("");
    setNotice("");
    try {
      await f();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  /** One request about a source, then the list again and what happened, in words. */
  const changeSource = apiAction(run, refetchSources, setNotice);

  return (
    <main class={styles.page}>
      <h1 class={styles.title}>Settings</h1>
      <Show when={props.admin}>
        {/* An admin's page is long on a phone: each section a tap away. */}
        <nav aria-label="On this page" class={styles.contents}>
          <For each={ADMIN_SECTIONS}>{([id, label]) => <a href={`#${id}`}>{label}</a>}</For>
        </nav>
      </Show>
      <Messages error={error()} notice={notice()} />

      <NotificationsSection />

      <Show when={props.admin}>
        <section aria-labelledby="sources-title" class={styles.section}>
          <h2 id="sources-title">Sources</h2>
          <form
            class={styles.row}
            onSubmit={(e) => {
              e.preventDefault();
              const data = new FormData(e.currentTarget);
              const form = e.currentTarget;
              void run(async () => {
                await request("/api/sources", {
                  json: { kind: data.get("kind"), name: data.get("name"), settings: {} },
                });
                form.reset();
                await refetchSources();
              });
            }}
          >
            <label class={styles.field}>
              Kind
              <select name="kind" class={styles.input} ref={kindField}>
                <For each={kinds}>{(k) => <option value={k.kind}>{k.label}</option>}</For>
              </select>
            </label>
            <label class={styles.field}>
              Name
              <input name="name" class={styles.input} required maxLength={100} />
            </label>
            <button type="submit" class={styles.primary}>
              Add source
            </button>
          </form>
          <Show when={(sources()?.sources ?? []).some((s) => s.demo)}>
            <p class={styles.muted}>
              The demo sources hold sample signals; their cards, and the sample cards, only rehearse.
            </p>
            <button
              type="button"
              class={styles.secondary}
              onClick={() => {
                if (
                  !confirm(
                    "Remove the demo sources with their signals, and withdraw the demo cards still waiting?",
                  )
                )
                  return;
                changeSource<{ sources: number; cards: number }>(
                  "/api/admin/demo",
                  { method: "DELETE" },
                  (r) =>
                    `Demo data removed: ${r.sources} ${r.sources === 1 ? "source" : "sources"} with their signals, ${r.cards} waiting ${r.cards === 1 ? "card" : "cards"} withdrawn.`,
                );
              }}
            >
              Remove demo data
            </button>
          </Show>
          <For each={sources()?.sources ?? []}>
            {(s) => (
              <article class={styles.item} aria-label={`Source ${s.name}`}>
                <h3>
                  {s.name} <span class={styles.muted}>· {s.kind}</span>
                  <Show when={s.demo}>
                    <span class={styles.muted}> · demo (sample signals)</span>
                  </Show>
                  <Show when={!s.enabled}>
                    <span class={styles.muted}> · paused: its signals are refused</span>
                  </Show>
                </h3>
                <p class={styles.muted}>{howToSend(s)}</p>
                <p class={styles.muted}>
                  {s.lastSignalAt ? `Last signal ${momentLabel(s.lastSignalAt)}` : "Nothing received yet"}
                </p>
                <Show when={s.lastRefusal}>
                  {(r) => (
                    <p class={refusalCurrent(s) ? styles.refusal : styles.refusalOld}>
                      Refused a request {momentLabel(r().at)} ({r().status}): {r().message}
                    </p>
                  )}
                </Show>
                <CopyField label="Ingest URL" value={s.ingestUrl} />
                <CopyField label="Secret" value={s.secret} secret />
                <Show when={s.sentryDsn}>{(dsn) => <CopyField label="DSN" value={dsn()} secret />}</Show>
                <Show when={s.kind === "metrics"}>
                  <CopyField
                    label="Prometheus remote_write"
                    value={remoteWriteConfig(s, savedSettings()[s.id] ?? s.settings)}
                    secret={s.secret}
                    rows={10}
                  />
                  <PrometheusHistory source={s} mapped={mappedMetrics(savedSettings()[s.id] ?? s.settings)} />
                </Show>
                <SourceSettings
                  source={s}
                  onSaved={(message, stored) => {
                    setNotice(message);
                    setSavedSettings((all) => ({ ...all, [stored.id]: stored.settings }));
                  }}
                  metric={metricFor(s)}
                  chosen={s.id === wantedSource}
                />
                <button
                  type="button"
                  class={styles.secondary}
                  onClick={() =>
                    void run(async () => {
                      await request(`/api/sources/${s.id}/test`, { method: "POST" });
                      setNotice(
                        `Test signal sent for ${s.name}: a test card appears in the feed in a moment.`,
                      );
                    })
                  }
                >
                  Send test signal
                </button>
                <div class={styles.row}>
                  <button
                    type="button"
                    class={styles.secondary}
                    onClick={() =>
                      changeSource(
                        `/api/sources/${s.id}`,
                        { method: "PATCH", json: { enabled: !s.enabled } },
                        s.enabled
                          ? `${s.name} paused: its sender's signals are refused until you resume it.`
                          : `${s.name} resumed.`,
                      )
                    }
                  >
                    {s.enabled ? "Pause" : "Resume"}
                  </button>
                  <button
                    type="button"
                    class={styles.secondary}
                    onClick={() => {
                      if (!confirm(`New secret for ${s.name}? The current one stops working at once.`))
                        return;
                      changeSource(
                        `/api/sources/${s.id}/rotate-secret`,
                        { method: "POST" },
                        `${s.name} has a new secret: paste it into its sender.`,
                      );
                    }}
                  >
                    New secret
                  </button>
                  <button
                    type="button"
                    class={styles.secondary}
                    onClick={() => {
                      if (!confirm(`Remove ${s.name}? Its signals go with it; cards stay.`)) return;
                      changeSource(`/api/sources/${s.id}`, { method: "DELETE" }, `${s.name} removed.`);
                    }}
                  >
                    Remove
                  </button>
                </div>
              </article>
            )}
          </For>
          <Show when={(sources()?.strays ?? []).length > 0}>
            <article class={styles.item} aria-label="Requests to sources that do not exist">
              <h3>Requests to sources that do not exist</h3>
              <p class={styles.muted}>
                A sender is still set up with a removed source's URL, or with one mistyped: compare it with
                the Ingest URL of the source it should reach. The latest first:
              </p>
              <ul class={styles.pairs}>
                <For each={sources()?.strays ?? []}>
                  {(r) => (
                    <li>
                      <span class={styles.refusal}>
                        <code>{r.path}</code> {momentLabel(r.at)} ({r.status})
                        {r.userAgent ? `, from ${r.userAgent}` : ""}
                      </span>
                    </li>
                  )}
                </For>
              </ul>
              <button
                type="button"
                class={styles.secondary}
                onClick={() =>
                  changeSource<{ cleared: number }>(
                    "/api/sources/strays",
                    { method: "DELETE" },
                    () => "Forgot the requests to sources that do not exist.",
                  )
                }
              >
                Forget these
              </button>
            </article>
          </Show>
        </section>

        <FailedSignalsSection run={run} notice={setNotice} />

        <ModelUseSection />

        <ActionsSection run={run} notice={setNotice} />

        <section aria-labelledby="team-title" class={styles.section}>
          <h2 id="team-title">Team</h2>
          <ul class={styles.list}>
            <For each={users()?.users ?? []}>
              {(u) => (
                <li>
                  {u.name}{" "}
                  <span class={styles.muted}>
                    · {u.email} · {u.role}
                  </span>
                </li>
              )}
            </For>
          </ul>
          <button
            type="button"
            class={styles.secondary}
            onClick={() =>
              void run(async () =>
                setInvite((await request<{ url: string }>("/api/invites", { json: {} })).url),
              )
            }
          >
            Invite a reviewer
          </button>
          <Show when={invite()}>
            <input class={styles.code} readOnly value={invite()} aria-label="Invitation link" />
          </Show>
        </section>

        <section aria-labelledby="mutes-title" class={styles.section}>
          <h2 id="mutes-title">Muted proposals</h2>
          <p class={styles.muted}>
            A rejected card's proposal stays quiet until the time shown; news far past it (a far bigger break,
            a new advisory, a job broken anew) still comes, and says so.
          </p>
          <Show
            when={(mutes()?.mutes.length ?? 0) > 0}
            fallback={<p class={styles.muted}>Nothing is muted.</p>}
          >
            <ul class={styles.list}>
              <For each={mutes()?.mutes ?? []}>
                {(m) => (
                  <li>
                    <code>{m.fingerprint}</code>
                    <span class={styles.muted}> until {momentLabel(m.until)}</span>
                    <button
                      type="button"
                      class={styles.link}
                      onClick={() =>
                        void run(async () => {
                          await request(`/api/mutes/${m.id}`, { method: "DELETE" });
                          await refetchMutes();
                        })
                      }
                    >
                      Unmute
                    </button>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        </section>
      </Show>
    </main>
  );
}

export default SettingsView;

/**
 * A refusal still worth the admin's eye: newer than the last signal, or within the hour (a
 * Prometheus series left out while the others arrive refuses a request every batch).
 */
function refusalCurrent(s: Source): boolean {
  const at = Date.parse(s.lastRefusal?.at ?? "");
  return !s.lastSignalAt || at >= Date.parse(s.lastSignalAt) || Date.now() - at < 60 * 60_000;
}
