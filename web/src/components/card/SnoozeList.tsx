import { For, onCleanup, onMount } from "solid-js";
import { type SnoozeChoice, snoozeChoices } from "../../lib/snooze.ts";
import styles from "./Card.module.css";

/**
 * The menu of when to snooze a card until (loaded when first opened): focus starts on its first
 * choice, arrow keys move, Enter chooses, Escape, a tap elsewhere or Tab away closes it.
 */
export default function SnoozeList(props: {
  onChoose(choice: SnoozeChoice): void;
  onClose(refocus: boolean): void;
}) {
  let menu: HTMLDivElement | undefined;
  const items = () => [...(menu?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
  const outside = (e: PointerEvent) => {
    if (!menu?.parentElement?.contains(e.target as Node)) props.onClose(false);
  };
  onMount(() => {
    document.addEventListener("pointerdown", outside);
    items()[0]?.focus();
  });
  onCleanup(() => document.removeEventListener("pointerdown", outside));
  const onKey = (e: KeyboardEvent) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    const move = e.key === "ArrowDown" ? 1 : e.key === "ArrowUp" ? -1 : 0;
    if (move) all[(at + move + all.length) % all.length]?.focus();
    else if (e.key === "Escape") props.onClose(true);
    else return;
    e.preventDefault();
  };
  return (
    <div
      class={styles.laterMenu}
      role="menu"
      aria-label="Snooze until"
      ref={menu}
      onKeyDown={onKey}
      // Tabbing away closes it, as a tap elsewhere does.
      onFocusOut={(e) => {
        const to = e.relatedTarget as Node | null;
        if (to && !menu?.parentElement?.contains(to)) props.onClose(false);
      }}
    >
      <For each={snoozeChoices(new Date())}>
        {(c) => (
          <button type="button" role="menuitem" onClick={() => props.onChoose(c)}>
            {c.label}
          </button>
        )}
      </For>
    </div>
  );
}
