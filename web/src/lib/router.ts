import { createSignal } from "solid-js";

/** A few routes need no router library: the path is a signal, links push history. */
const [path, setPath] = createSignal(window.location.pathname);
window.addEventListener("popstate", () => setPath(window.location.pathname));

export { path };

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  setPath(new URL(to, window.location.origin).pathname);
}

/** Reads and removes the one-time token from the URL fragment, so it does not linger in history. */
export function takeFragmentToken(): string {
  const token = decodeURIComponent(window.location.hash.slice(1));
  if (token) window.history.replaceState(null, "", window.location.pathname);
  return token;
}
