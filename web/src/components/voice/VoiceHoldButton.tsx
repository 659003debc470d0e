import { createEffect, createSignal, on, Show } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { type Recorder, startRecording } from "../../lib/recorder.ts";
import { type LiveTranscript, startLiveTranscript } from "../../lib/speech.ts";
import styles from "./Voice.module.css";

interface VoiceHoldButtonProps {
  cardId: string;
  /** Held from elsewhere (the space bar on the desktop): start on true, send on false. */
  held?: boolean;
  onSent(message: string, followUpId?: string): void;
  onError(message: string): void;
}

const CANCEL_DISTANCE = 80;

/** Sends a follow-up (audio and/or typed text) for a card, with the browser's time zone. */
export async function upload(cardId: string, form: FormData): Promise<string | undefined> {
  // "Remind me tomorrow morning" is on the speaker's clock.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) form.set("timeZone", zone);
  const res = (await request(`/api/cards/${cardId}/follow-ups`, { form })) as { followUp?: { id?: string } };
  return res?.followUp?.id;
}

/** Hold to record a follow-up; release to send; slide away to cancel. */
export function VoiceHoldButton(props: VoiceHoldButtonProps) {
  const [recording, setRecording] = createSignal(false);
  const [level, setLevel] = createSignal(0);
  const [elapsed, setElapsed] = createSignal(0);
  const [cancelling, setCancelling] = createSignal(false);
  const [heard, setHeard] = createSignal("");
  let recorder: Recorder | null = null;
  let live: LiveTranscript | null = null;
  let origin = { x: 0, y: 0 };

  const finish = async (send: boolean) => {
    const r = recorder;
    const words = live;
    recorder = null;
    live = null;
    setRecording(false);
    setHeard("");
    if (!r) return;
    if (!send) {
      r.cancel();
      words?.abort();
      return;
    }
    words?.stop();
    const { blob, durationMs } = await r.stop();
    if (durationMs < 300) return;
    const form = new FormData();
    form.set("audio", blob, "follow-up");
    form.set("durationMs", String(durationMs));
    // The browser's own words, when it recognized any: used until the server's transcript arrives.
    const transcript = words?.text() ?? "";
    if (transcript) form.set("transcript", transcript);
    try {
      const id = await upload(props.cardId, form);
      props.onSent("Sent — the agent is revising the card.", id);
    } catch (err) {
      props.onError(errorMessage(err));
    }
  };

  const begin = async () => {
    setCancelling(false);
    try {
      recorder = await startRecording(
        (l, ms) => {
          setLevel(l);
          setElapsed(ms);
        },
        () => void finish(true),
      );
      setRecording(true);
      live = startLiveTranscript(setHeard);
    } catch {
      props.onError("The microphone is not available; type your instruction instead.");
    }
  };
  const down = (e: PointerEvent) => {
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    origin = { x: e.clientX, y: e.clientY };
    void begin();
  };
  // The space bar: pressing starts, releasing sends (a press shorter than 0.3 s sends nothing).
  let starting: Promise<void> | null = null;
  createEffect(
    on(
      () => props.held,
      (held, was) => {
        if (held && !was) starting = begin();
        else if (!held && was) void (starting ?? Promise.resolve()).then(() => finish(true));
      },
      { defer: true },
    ),
  );
  const move = (e: PointerEvent) => {
    if (recording()) setCancelling(Math.hypot(e.clientX - origin.x, e.clientY - origin.y) > CANCEL_DISTANCE);
  };
  const up = () => void finish(!cancelling());

  return (
    <div class={styles.wrap}>
      <Show when={recording()}>
        <div class={styles.meter} role="status" aria-live="polite">
          <span class={styles.level} style={{ transform: `scaleX(${Math.max(0.05, level())})` }} />
          <span>
            {cancelling() ? "Release to cancel" : `${Math.floor(elapsed() / 1000)} s · release to send`}
          </span>
          <Show when={heard()}>
            <q class={styles.heard} data-testid="live-transcript">
              {heard()}
            </q>
          </Show>
        </div>
      </Show>
      <button
        type="button"
        class={styles.mic}
        classList={{ [styles.active ?? ""]: recording() }}
        aria-label="Hold to speak a follow-up"
        onPointerDown={down}
        onPointerMove={move}
        onPointerUp={up}
        onPointerCancel={() => void finish(false)}
        onContextMenu={(e) => e.preventDefault()}
      >
        {/* Drawn, not an emoji: a phone or browser without an emoji font showed an empty box. */}
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor">
          <rect x="9" y="3" width="6" height="11" rx="3" stroke-width="2" />
          <path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7" stroke-width="2" stroke-linecap="round" />
        </svg>
      </button>
    </div>
  );
}
