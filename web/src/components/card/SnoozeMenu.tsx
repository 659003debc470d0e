import { createSignal, lazy, Show } from "solid-js";
import type { SnoozeChoice } from "../../lib/snooze.ts";
import styles from "./Card.module.css";

const SnoozeList = lazy(() => import("./SnoozeList.tsx"));

/**
 * "Later" and, beside it, a menu of when: in an hour, this evening, tomorrow morning, Monday. A tap
 * on "Later" snoozes for the default four hours; the menu opens from its ▾ (or Shift+S on the
 * selected card).
 */
export function SnoozeMenu(props: { onSnooze(choice?: SnoozeChoice): void }) {
  const [open, setOpen] = createSignal(false);
  let toggle: HTMLButtonElement | undefined;
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) toggle?.focus();
  };
  return (
    <div class={styles.later}>
      <button type="button" class={styles.snooze} onClick={() => props.onSnooze()}>
        Later
      </button>
      <button
        type="button"
        ref={toggle}
        class={styles.laterWhen}
        aria-label="Snooze until…"
        aria-haspopup="menu"
        aria-expanded={open()}
        data-key="S"
        onClick={() => (open() ? close(true) : setOpen(true))}
      >
        ▾
      </button>
      <Show when={open()}>
        <SnoozeList
          onClose={close}
          onChoose={(c) => {
            close(false);
            props.onSnooze(c);
          }}
        />
      </Show>
    </div>
  );
}
