import type { Action, Deploying, Source, SourceKind, SourceMetrics } from "@flick/shared";
import { utcDateTime } from "@flick/shared/moments";
import { createEffect, createResource, createSignal, For, Match, Show, Switch, untrack } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { actionsVersion } from "./actions-version.ts";
import { Messages, NumberField, type Settings, text } from "./parts.tsx";
import styles from "./Settings.module.css";
import { WebhookMapping } from "./WebhookMapping.tsx";

/** What a webhook source's settings say, where no form is offered: an example to start from. */
const WEBHOOK_EXAMPLE =
  '{"titlePath": "$.title", "idPath": "$.id", "fingerprintPath": "$.group", "summaryPath": "$.text", "urlPath": "$.url"}: where in the JSON each part of a card is.';

/** The feedback agent's numbers, with their defaults as placeholders. */
const FEEDBACK_NUMBERS = [
  { label: "Customers alike in a week that make a card", key: "clusterThreshold", step: 1, placeholder: "5" },
  { label: "How alike they must be (0.05–0.95)", key: "similarity", step: 0.05, placeholder: "0.3" },
];

/** The kinds whose settings the built-in agents read, and so get a form; the others edit JSON. */
const FORM_KINDS: ReadonlySet<SourceKind> = new Set(["metrics", "feedback", "sentry", "webhook"]);

/** The settings without a key, or with it set; an empty text, a blank number or an empty list unsets it. */
/** A setting that is a list, as a comma-separated field shows it. */
const list = (value: unknown) => (Array.isArray(value) ? value.join(", ") : "");
/** A comma-separated field's text as the list it sets. */
const split = (text: string) =>
  text
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);

function withValue(settings: Settings, key: string, value: unknown): Settings {
  const next = { ...settings };
  const empty =
    value === undefined ||
    value === "" ||
    (typeof value === "number" && Number.isNaN(value)) ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
  if (empty) delete next[key];
  else next[key] = value;
  return next;
}

/** JSON with every object's keys in order: the same settings in any key order read the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * A source's settings, saved with PATCH: a form for what the built-in agents read (the action a
 * broken metric proposes, where issues go, how alike feedback must be), or the JSON itself. The
 * server checks them and names the field it refuses ("settings.similarity: …"); nothing is saved
 * then. Keys the form does not show are kept as they are.
 */
export function SourceSettings(props: {
  source: Source;
  /** After a save: what to tell, and the source as stored. */
  onSaved(message: string, stored: Source): void;
  /** A metric to choose an action for: opened at it when this source sent it, or is `chosen`. */
  metric?: string;
  /** The card named this source as the one whose settings chose its proposal. */
  chosen?: boolean;
}) {
  const hasForm = FORM_KINDS.has(props.source.kind);
  // No agent reads a GitHub or Alertmanager source's settings: no editor, unless some were set.
  const readsNothing =
    (props.source.kind === "github" || props.source.kind === "alertmanager") &&
    Object.keys(props.source.settings).length === 0;
  let details: HTMLDetailsElement | undefined;
  const [settings, setSettings] = createSignal<Settings>({ ...(props.source.settings as Settings) });
  // What the server holds, to tell the admin a change made in the form is not saved yet.
  const [saved, setSaved] = createSignal(canonical(props.source.settings));
  const unsaved = () => !asJson() && canonical(settings()) !== saved();
  const [asJson, setAsJson] = createSignal(!hasForm);
  const [opened, setOpened] = createSignal(false);
  // A metrics source's sent names, asked once: when its settings open, or when a card asks for one
  // of its metrics (then it opens itself if it sent it; no list, no opening).
  const [sent] = createResource(
    () => (props.source.kind === "metrics" && (props.metric || opened()) ? props.source.id : undefined),
    (id) => request<SourceMetrics>(`/api/sources/${id}/metrics`),
  );
  // The repositories seen deploying, offered for the deploys field: asked when the settings open.
  const scoped = props.source.kind === "metrics" || props.source.kind === "sentry";
  const [deploying] = createResource(
    () => (scoped && opened() ? props.source.id : undefined),
    () => request<Deploying>("/api/sources/deploying"),
  );
  let deploysInput: HTMLInputElement | undefined;
  /** The repositories seen deploying that the field does not name yet. */
  const unnamed = () => {
    const named = new Set(split(list(settings().deploys)).map((n) => n.toLowerCase()));
    return (deploying.state === "ready" ? deploying().repositories : []).filter(
      (r) => !named.has(r.name.toLowerCase()),
    );
  };
  const addDeploying = (name: string) => {
    const next = [...split(list(settings().deploys)), name];
    set("deploys", next);
    if (deploysInput) deploysInput.value = next.join(", ");
  };
  // Opened for that metric (not by the admin's own tap): the form starts at it.
  const [arrived, setArrived] = createSignal(false);
  createEffect(() => {
    const wanted = props.metric;
    if (!wanted || !details || sent.state !== "ready") return;
    if (!props.chosen && !sent().names.includes(wanted)) return;
    if (untrack(opened)) return;
    setArrived(true);
    details.open = true;
  });
  const [json, setJson] = createSignal("");
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const set = (key: string, value: unknown) => setSettings((s) => withValue(s, key, value));
  const showJson = () => {
    setJson(JSON.stringify(settings(), null, 2));
    setAsJson(true);
  };
  /** The JSON as settings, or null with the problem shown. */
  const parsed = (): Settings | null => {
    let value: unknown;
    try {
      value = JSON.parse(json());
    } catch (err) {
      setError(`Not valid JSON: ${(err as Error).message}`);
      return null;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      setError("Settings must be a JSON object: {…}");
      return null;
    }
    return value as Settings;
  };
  const showForm = () => {
    const value = parsed();
    if (!value) return;
    setError("");
    setSettings(value);
    setAsJson(false);
  };
  const save = async () => {
    const next = asJson() ? parsed() : settings();
    if (!next) return;
    setBusy(true);
    try {
      const stored = await request<{ source: Source }>(`/api/sources/${props.source.id}`, {
        method: "PATCH",
        json: { settings: next },
      });
      setSettings({ ...(stored.source.settings as Settings) });
      setSaved(canonical(stored.source.settings));
      if (asJson()) setJson(JSON.stringify(stored.source.settings, null, 2));
      setError("");
      props.onSaved(`Saved the settings of ${props.source.name}.`, stored.source);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  if (!hasForm) setJson(JSON.stringify(settings(), null, 2));
  return (
    <details class={styles.settings} ref={details} onToggle={(e) => e.currentTarget.open && setOpened(true)}>
      <summary>Settings</summary>
      {/* Made when first opened (a metrics source's form asks the server for its names and actions). */}
      <Show when={opened()}>
        <Show
          when={!readsNothing}
          fallback={
            <p class={styles.muted}>
              Nothing to set: the agents read what they need from what the sender posts.
            </p>
          }
        >
          <Show
            when={!asJson()}
            fallback={
              <>
                <Show when={props.source.kind === "webhook"}>
                  <p class={styles.muted}>{WEBHOOK_EXAMPLE}</p>
                </Show>
                <textarea
                  class={styles.json}
                  aria-label={`Settings of ${props.source.name} (JSON)`}
                  spellcheck={false}
                  rows={6}
                  value={json()}
                  onInput={(e) => setJson(e.currentTarget.value)}
                />
              </>
            }
          >
            <Switch>
              <Match when={props.source.kind === "metrics"}>
                <MetricActions
                  sourceId={props.source.id}
                  sent={sent.state === "ready" ? sent() : undefined}
                  settings={settings()}
                  set={set}
                  prefill={arrived() ? props.metric : undefined}
                />
                <label class={styles.check}>
                  <input
                    type="checkbox"
                    checked={settings().oneService === true}
                    onChange={(e) => set("oneService", e.currentTarget.checked || undefined)}
                  />
                  Its metrics come from one service: metrics without labels that break together are one card
                </label>
              </Match>
              <Match when={props.source.kind === "webhook"}>
                <WebhookMapping sourceId={props.source.id} settings={settings()} set={set} />
              </Match>
              <Match when={props.source.kind === "feedback"}>
                <div class={styles.row}>
                  <For each={FEEDBACK_NUMBERS}>
                    {(field) => (
                      // Named one by one: a spread would pull Solid's mergeProps into the main script.
                      <NumberField
                        label={field.label}
                        key={field.key}
                        step={field.step}
                        placeholder={field.placeholder}
                        settings={settings()}
                        set={set}
                      />
                    )}
                  </For>
                </div>
                <label class={styles.field}>
                  Product and company names, comma-separated (every review says them: no topic)
                  <input
                    class={styles.input}
                    placeholder="Acme Notes, Acme"
                    value={untrack(() => list(settings().names))}
                    onChange={(e) => set("names", split(e.currentTarget.value))}
                  />
                </label>
              </Match>
            </Switch>
            <Show when={props.source.kind !== "webhook"}>
              <label class={styles.field}>
                {props.source.kind === "metrics"
                  ? "Repository for issues about a metric without an action (owner/name)"
                  : props.source.kind === "feedback"
                    ? "Repository for issues quoting the customers (owner/name)"
                    : "Repository for issues about an error group (owner/name)"}
                <input
                  class={styles.input}
                  placeholder="owner/name"
                  autocapitalize="off"
                  spellcheck={false}
                  value={untrack(() => text(settings().repository))}
                  onInput={(e) => set("repository", e.currentTarget.value.trim())}
                />
              </label>
            </Show>
            <Show when={scoped}>
              <label class={styles.field}>
                Repositories whose deploys can break it, comma-separated (empty: a deploy of any repository is
                blamed)
                <input
                  class={styles.input}
                  placeholder="acme/shop, acme/deploy"
                  autocapitalize="off"
                  spellcheck={false}
                  ref={deploysInput}
                  value={untrack(() => list(settings().deploys))}
                  onChange={(e) => set("deploys", split(e.currentTarget.value))}
                />
              </label>
              <Show when={unnamed().length > 0}>
                <div class={styles.offers}>
                  <span>Seen deploying lately:</span>
                  <For each={unnamed()}>
                    {(r) => (
                      <button
                        type="button"
                        class={styles.offer}
                        title={`Last deployed ${utcDateTime(Date.parse(r.lastDeployAt), Date.now())} UTC`}
                        onClick={() => addDeploying(r.name)}
                      >
                        + {r.name}
                      </button>
                    )}
                  </For>
                </div>
              </Show>
            </Show>
          </Show>
          <Messages error={error()} notice="" />
          <div class={styles.row}>
            <button type="button" class={styles.secondary} disabled={busy()} onClick={() => void save()}>
              Save settings
            </button>
            <Show when={unsaved()}>
              <span class={styles.muted}>Not saved yet</span>
            </Show>
            <Show when={hasForm}>
              <button type="button" class={styles.link} onClick={() => (asJson() ? showForm() : showJson())}>
                {asJson() ? "Edit as a form" : "Edit as JSON"}
              </button>
            </Show>
          </div>
        </Show>
      </Show>
    </details>
  );
}

/**
 * Which action a broken metric's card proposes, metric by metric (else an issue, or nothing). The
 * actions are the admin's webhooks (Actions, below); one that is gone still shows, named as such.
 * The metric field offers the names this source has sent, and a metric it never sent is pointed
 * out (a typo would leave the action unused without a word).
 */
function MetricActions(props: {
  sourceId: string;
  /** The metric names the source has sent (undefined until known). */
  sent: SourceMetrics | undefined;
  settings: Settings;
  set(key: string, value: unknown): void;
  /** The metric to choose an action for (from a card): filled in, the form in view. */
  prefill?: string;
}) {
  let fieldset: HTMLFieldSetElement | undefined;
  let toActions: HTMLButtonElement | undefined;
  /** The Actions section in view, its first field ready: where an action is made. */
  const goToActions = () => {
    const section = document.getElementById("actions-title")?.closest("section");
    section?.scrollIntoView({ block: "start" });
    section?.querySelector<HTMLInputElement>("input")?.focus();
  };
  // Arrived for a metric: once the actions are known, the chooser in focus, or the way to make one.
  let arrived = Boolean(untrack(() => props.prefill));
  createEffect(() => {
    if (!arrived || actions.loading || !fieldset) return;
    arrived = false;
    fieldset.scrollIntoView({ block: "center" });
    (fieldset.querySelector("select") ?? toActions)?.focus();
  });
  const [actions] = createResource(actionsVersion, () => request<{ actions: Action[] }>("/api/actions"));
  const sentNames = () => props.sent?.names ?? [];
  // A series key ("name{label=…}") is sent under its metric's name.
  const unsent = (key: string) =>
    props.sent?.complete === true && !sentNames().includes(key.split("{")[0] ?? key);
  const rows = () => Object.entries((props.settings.actions ?? {}) as Record<string, string>);
  const [metric, setMetric] = createSignal(untrack(() => props.prefill ?? ""));
  const [action, setAction] = createSignal("");
  // Not ready (loading, or refused): no names to offer yet.
  const names = () => (actions.state === "ready" ? actions().actions.map((a) => a.name) : []);
  const put = (next: [string, string][]) => props.set("actions", Object.fromEntries(next));
  const add = () => {
    const name = metric().trim();
    const chosen = action() || names()[0];
    if (!name || !chosen) return;
    put([...rows().filter(([m]) => m !== name), [name, chosen]]);
    setMetric("");
  };
  return (
    <fieldset class={styles.fieldset} ref={fieldset}>
      <legend>Action a broken metric proposes</legend>
      <Show
        when={rows().length > 0}
        fallback={
          <Show when={names().length > 0}>
            <p class={styles.muted}>None: every broken metric proposes an issue.</p>
          </Show>
        }
      >
        <ul class={styles.pairs}>
          <For each={rows()}>
            {([m, a]) => (
              <li>
                <span>
                  <code>{m}</code> → {a}
                  <Show when={actions.state === "ready" && !names().includes(a)}>
                    <span class={styles.error}> (no such action)</span>
                  </Show>
                  <Show when={unsent(m)}>
                    <span class={styles.muted}> · not sent by this source yet</span>
                  </Show>
                  <Show when={props.sent?.perReplica[m.split("{")[0] ?? m]}>
                    {(labels) => (
                      <span class={styles.muted}>
                        {" "}
                        · sent one series per {labels().join(" and ")}: each is judged on its own (a new one
                        from what the one before it learned), and while they come and go — a deploy, a
                        scale-down — a break is told only once they have settled, a quarter hour later. A
                        recording rule's <code>sum by (job)</code> is judged at once
                      </span>
                    )}
                  </Show>
                </span>
                <button
                  type="button"
                  class={styles.link}
                  onClick={() => put(rows().filter(([x]) => x !== m))}
                >
                  Remove<span class={styles.hiddenText}> the action of {m}</span>
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show
        when={actions.loading || names().length > 0}
        fallback={
          <p class={styles.muted}>
            No action to choose yet: add one under Actions (a webhook such as a rollback), then choose it here
            for a metric. Until then a broken metric proposes an issue in the repository below.{" "}
            <button type="button" class={styles.link} ref={toActions} onClick={goToActions}>
              Add an action
            </button>
          </p>
        }
      >
        <datalist id={`metrics-of-${props.sourceId}`}>
          <For each={sentNames()}>{(n) => <option value={n} />}</For>
        </datalist>
        <div class={styles.row}>
          <label class={styles.field}>
            Metric (a name, or a series as name{"{"}label="value"{"}"})
            <input
              class={styles.input}
              placeholder="checkout_success"
              list={`metrics-of-${props.sourceId}`}
              autocapitalize="off"
              spellcheck={false}
              value={metric()}
              onInput={(e) => setMetric(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  add();
                }
              }}
            />
          </label>
          <label class={styles.field}>
            Action
            <select class={styles.input} value={action()} onChange={(e) => setAction(e.currentTarget.value)}>
              <For each={names()}>{(n) => <option value={n}>{n}</option>}</For>
            </select>
          </label>
          <button
            type="button"
            class={styles.secondary}
            disabled={!metric().trim() || names().length === 0}
            onClick={add}
          >
            Set for this metric
          </button>
        </div>
      </Show>
    </fieldset>
  );
}
