import type { PrometheusHistory as Loaded, Source } from "@flick/shared";
import { createSignal, Show } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { momentLabel } from "../../lib/chart-axis.ts";
import { Messages } from "./parts.tsx";
import styles from "./Settings.module.css";

/**
 * A metrics source's history from the team's Prometheus, loaded by the server from its HTTP API:
 * the metrics the source maps to actions, the last 48 hours at the step their samples come at, so they are
 * judged against their past from their next live point. Loaded after remote_write began, the past
 * still comes first while a series is in its first 300 points (the metrics agent's pastFirst).
 */
export function PrometheusHistory(props: { source: Source; mapped: string[] }) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal("");
  const [notice, setNotice] = createSignal("");
  const load = async (form: FormData) => {
    setBusy(true);
    setError("");
    setNotice("");
    const field = (name: string) => String(form.get(name) ?? "").trim();
    // Credentials only when Prometheus asks for them: a token, or a user (and password).
    const credentials = field("token")
      ? { bearerToken: field("token") }
      : field("username")
        ? { basicAuth: { username: field("username"), password: String(form.get("password") ?? "") } }
        : {};
    try {
      const r = await request<Loaded>(`/api/sources/${props.source.id}/prometheus-history`, {
        json: { url: field("url"), hours: 48, ...credentials },
      });
      const already = r.duplicates ? ` (${r.duplicates} were here already)` : "";
      const each = r.loads.map(
        (l) =>
          `${l.query}: ${l.series} series, ${l.stepSeconds === 60 ? "a minute" : `${l.stepSeconds} s`} apart from ${momentLabel(l.from)} to ${momentLabel(l.to)}`,
      );
      const left = r.refused.length
        ? ` Left out: ${r.refused.map((i) => `${i.path}: ${i.message}`).join("; ")}.`
        : "";
      setNotice(`Loaded ${r.accepted} points${already}. ${each.join("; ")}.${left}`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Show
      when={props.mapped.length > 0}
      fallback={
        <p class={styles.muted}>
          Map a metric to an action below to load its history from Prometheus: it is then judged from its next
          point, not after 300.
        </p>
      }
    >
      <form
        class={styles.row}
        aria-label="History from Prometheus"
        onSubmit={(e) => {
          e.preventDefault();
          void load(new FormData(e.currentTarget));
        }}
      >
        <label class={styles.field}>
          Prometheus address, to load the last 48 hours of {props.mapped.join(", ")} — before remote_write
          starts, or within a series' first 300 points
          <input class={styles.input} name="url" type="url" required placeholder="http://prometheus:9090" />
        </label>
        <details class={styles.credentials}>
          <summary>It asks for credentials</summary>
          <p class={styles.muted}>Sent with this load only, never stored.</p>
          <label class={styles.field}>
            Bearer token
            <input class={styles.input} name="token" type="password" autocomplete="off" />
          </label>
          <div class={styles.row}>
            <label class={styles.field}>
              or user
              <input class={styles.input} name="username" autocomplete="off" spellcheck={false} />
            </label>
            <label class={styles.field}>
              and password
              <input class={styles.input} name="password" type="password" autocomplete="off" />
            </label>
          </div>
        </details>
        <button type="submit" class={styles.secondary} disabled={busy()}>
          {busy() ? "Loading…" : "Load history"}
        </button>
      </form>
      <Messages error={error()} notice={notice()} />
    </Show>
  );
}
