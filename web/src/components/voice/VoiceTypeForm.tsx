import { createSignal } from "solid-js";
import { errorMessage } from "../../lib/api.ts";
import styles from "./Voice.module.css";
import { upload } from "./VoiceHoldButton.tsx";

/** Folds the box `el` is in and takes the cursor out of it: the keys are the feed's again. */
function putAway(el: HTMLElement): void {
  const details = el.closest("details");
  if (details) details.open = false;
  (document.activeElement as HTMLElement | null)?.blur();
}

/** Typing always works: the same follow-up as speaking, for quiet rooms and browsers without a mic. */
export function VoiceTypeForm(props: {
  cardId: string;
  onSent(message: string, followUpId?: string): void;
  onError(message: string): void;
}) {
  const [busy, setBusy] = createSignal(false);
  return (
    // On a desktop the "i" key opens it with the cursor in the box (see the feed's keys).
    <details class={styles.type} data-key="i">
      <summary>Type an instruction instead</summary>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const text = String(new FormData(form).get("text") ?? "").trim();
          if (!text) return;
          const data = new FormData();
          data.set("text", text);
          setBusy(true);
          try {
            const id = await upload(props.cardId, data);
            form.reset();
            // Sent: the box folds away and the keys are the feed's again.
            putAway(form);
            props.onSent("Sent — the agent is revising the card.", id);
          } catch (err) {
            props.onError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <textarea
          name="text"
          rows={2}
          maxLength={5000}
          aria-label="Instruction for the agent"
          aria-keyshortcuts="Control+Enter"
          onKeyDown={(e) => {
            // Ctrl (⌘) + Enter sends; Escape folds the box and gives the keys back to the feed.
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            } else if (e.key === "Escape") {
              e.preventDefault();
              putAway(e.currentTarget);
            }
          }}
          placeholder="e.g. only roll back checkout, not payments"
        />
        <button type="submit" disabled={busy()}>
          Send
        </button>
      </form>
    </details>
  );
}
