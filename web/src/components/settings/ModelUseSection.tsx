import type { ModelUsage } from "@flick/shared";
import { createResource, createSignal, For, Show } from "solid-js";
import { request } from "../../lib/api.ts";
import styles from "./Settings.module.css";

const PERIODS = [
  { days: 1, label: "Today" },
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
] as const;

const tokens = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "token" : "tokens"}`;
const dollars = (usd: number | undefined) =>
  usd === undefined ? "" : ` · $${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;

/** What each user of the model spent today against its daily limit. */
function limits(u: ModelUsage): { label: string; spent: number; limit: number }[] {
  const spentBy = (via: "follow-ups" | "agent", agent?: string) =>
    u.byAgent.filter((r) => r.via === via && (!agent || r.agent === agent)).reduce((n, r) => n + r.tokens, 0);
  const out = [
    { label: "Follow-up revisions", spent: spentBy("follow-ups"), limit: u.dailyLimits.followUps },
    { label: "Fixer", spent: spentBy("agent", "fixer"), limit: u.dailyLimits.fixer },
    { label: "Summarizer", spent: spentBy("agent", "summarizer"), limit: u.dailyLimits.summarizer },
  ];
  return out.filter((l): l is { label: string; spent: number; limit: number } => l.limit !== null);
}

/**
 * The model's tokens (and cost, with a price set): in all, per agent, for the costliest cards,
 * today or over a week or a month; today's spending against each daily limit.
 */
export function ModelUseSection() {
  const [days, setDays] = createSignal<number>(1);
  const [usage] = createResource(days, (d) => request<ModelUsage>(`/api/admin/usage?days=${d}`));
  return (
    <section aria-labelledby="model-title" class={styles.section}>
      <h2 id="model-title">Model use</h2>
      <label class={styles.field}>
        Period
        <select class={styles.input} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          <For each={PERIODS}>{(p) => <option value={p.days}>{p.label}</option>}</For>
        </select>
      </label>
      <Show when={usage.latest}>
        {(u) => (
          <>
            <Show
              when={u().model}
              fallback={
                <p class={styles.muted}>
                  No model is configured: the built-in rules answer follow-ups and the agents write their own
                  words. Set OPENAI_API_KEY (or OPENAI_BASE_URL) to use one.
                </p>
              }
            >
              {(model) => (
                <p class={styles.muted}>
                  Model {model()}
                  {u().usdPerMillionTokens !== undefined
                    ? `, at $${u().usdPerMillionTokens} per million tokens`
                    : ""}
                  .
                </p>
              )}
            </Show>
            <p role="status" aria-live="polite">
              {PERIODS.find((p) => p.days === days())?.label}: {tokens(u().total)}
              {dollars(u().usd)}
            </p>
            <Show when={days() === 1 && limits(u()).length > 0}>
              <ul class={styles.list} aria-label="Daily limits">
                <For each={limits(u())}>
                  {(l) => (
                    <li>
                      {l.label}: {l.spent.toLocaleString("en-US")} of {tokens(l.limit)} a day
                      {l.spent >= l.limit ? " — reached: plain rules answer until tomorrow (UTC)" : ""}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
            <Show when={u().byAgent.length > 0}>
              <h3>By agent</h3>
              <ul class={styles.list} aria-label="By agent">
                <For each={u().byAgent}>
                  {(r) => (
                    <li>
                      {r.agent} {r.via === "follow-ups" ? "(follow-ups)" : ""}: {tokens(r.tokens)} in{" "}
                      {r.calls} {r.calls === 1 ? "call" : "calls"}
                      {dollars(r.usd)}
                    </li>
                  )}
                </For>
              </ul>
              <h3>Costliest cards</h3>
              <ul class={styles.list} aria-label="Costliest cards">
                <For each={u().byCard.slice(0, 5)}>
                  {(r) => (
                    <li>
                      {r.title ?? "a card since removed"}: {tokens(r.tokens)}
                      {dollars(r.usd)}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </>
        )}
      </Show>
    </section>
  );
}
