import type { PushPreferences } from "@flick/shared";
import { createResource, createSignal, Show } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { Messages } from "./parts.tsx";
import styles from "./Settings.module.css";

interface PushState {
  publicKey: string;
  preferences: PushPreferences;
  devices: number;
}

const supported = () =>
  typeof window !== "undefined" &&
  "serviceWorker" in navigator &&
  "PushManager" in window &&
  "Notification" in window;

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * Web push for the person signed in: turn it on or off on this device, and say when it may
 * interrupt — only cards ranked high enough, at most so many an hour, never in quiet hours.
 */
export function NotificationsSection() {
  const [state, { refetch }] = createResource(() => request<PushState>("/api/push"));
  const [error, setError] = createSignal("");
  const [notice, setNotice] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  // Whether this browser holds a push subscription: it is offered the one button that applies.
  const [subscribed, { refetch: recheck }] = createResource(async () => {
    if (!supported()) return false;
    const registration = await navigator.serviceWorker.getRegistration();
    return (await registration?.pushManager.getSubscription()) != null;
  });

  const act = async (f: () => Promise<string>) => {
    setError("");
    setNotice("");
    setBusy(true);
    try {
      setNotice(await f());
      await Promise.all([refetch(), recheck()]);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const turnOn = () =>
    act(async () => {
      const permission = await Notification.requestPermission();
      if (permission !== "granted")
        throw new Error("Notifications are blocked for this site in the browser's settings.");
      const registration = await navigator.serviceWorker.ready;
      let subscription: PushSubscription;
      try {
        subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(state()?.publicKey ?? ""),
        });
      } catch (err) {
        throw new Error(`This browser could not subscribe to push: ${(err as Error).message}`);
      }
      await request("/api/push/subscriptions", { method: "POST", json: subscription.toJSON() });
      return "Notifications are on for this device.";
    });

  const turnOff = () =>
    act(async () => {
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.getSubscription();
      if (!subscription) return "This device was not subscribed.";
      await request("/api/push/subscriptions", {
        method: "DELETE",
        json: { endpoint: subscription.endpoint },
      });
      await subscription.unsubscribe();
      return "Notifications are off for this device.";
    });

  const save = (form: HTMLFormElement) =>
    act(async () => {
      const data = new FormData(form);
      const text = (k: string) => String(data.get(k) ?? "").trim();
      await request("/api/push/preferences", {
        method: "PUT",
        json: {
          threshold: Number(text("threshold")) / 100,
          maxPerHour: Number(text("maxPerHour")),
          quietStart: text("quietStart") || null,
          quietEnd: text("quietEnd") || null,
          timeZone: text("timeZone"),
        },
      });
      return "Saved.";
    });

  return (
    <section aria-labelledby="push-title" class={styles.section}>
      <h2 id="push-title">Notifications</h2>
      <p class={styles.muted}>
        Flick interrupts you only for cards that deserve it. Your devices with notifications on:{" "}
        <strong data-testid="push-devices">{state()?.devices ?? "…"}</strong>.
      </p>
      <Messages error={error()} notice={notice()} />
      <Show
        when={supported()}
        fallback={<p class={styles.muted}>This browser cannot receive push notifications.</p>}
      >
        <div class={styles.row}>
          <Show
            when={subscribed()}
            fallback={
              <button
                class={styles.primary}
                type="button"
                disabled={busy() || !state() || subscribed.loading}
                onClick={turnOn}
              >
                Turn on for this device
              </button>
            }
          >
            <button class={styles.secondary} type="button" disabled={busy()} onClick={turnOff}>
              Turn off for this device
            </button>
          </Show>
        </div>
      </Show>
      <Show when={state()}>
        {(s) => (
          <form
            class={styles.row}
            onSubmit={(e) => {
              e.preventDefault();
              void save(e.currentTarget);
            }}
          >
            <label class={styles.field}>
              Only cards ranked at least (of 100)
              <input
                class={styles.input}
                name="threshold"
                type="number"
                min="0"
                max="100"
                required
                value={Math.round(s().preferences.threshold * 100)}
              />
            </label>
            <label class={styles.field}>
              At most, per hour
              <input
                class={styles.input}
                name="maxPerHour"
                type="number"
                min="0"
                max="60"
                required
                value={s().preferences.maxPerHour}
              />
            </label>
            <label class={styles.field}>
              Quiet from
              <input
                class={styles.input}
                name="quietStart"
                type="time"
                value={s().preferences.quietStart ?? ""}
              />
            </label>
            <label class={styles.field}>
              Quiet until
              <input
                class={styles.input}
                name="quietEnd"
                type="time"
                value={s().preferences.quietEnd ?? ""}
              />
            </label>
            <label class={styles.field}>
              Time zone
              <input
                class={styles.input}
                name="timeZone"
                required
                value={
                  s().preferences.timeZone === "UTC"
                    ? Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"
                    : s().preferences.timeZone
                }
              />
            </label>
            <button class={styles.secondary} type="submit" disabled={busy()}>
              Save
            </button>
          </form>
        )}
      </Show>
    </section>
  );
}
