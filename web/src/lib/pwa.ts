import { createSignal } from "solid-js";
import { Workbox } from "workbox-window";

/** Set when a new version is installed and waiting; calling it switches and reloads. */
const [update, setUpdate] = createSignal<(() => void) | null>(null);

export { update };

export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator) || import.meta.env.DEV) return;
  const wb = new Workbox("/sw.js");
  wb.addEventListener("waiting", () => {
    setUpdate(() => () => {
      wb.addEventListener("controlling", () => window.location.reload());
      wb.messageSkipWaiting();
    });
  });
  void wb.register({ immediate: true });
}
