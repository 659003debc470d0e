import type { Change } from "@flick/shared";

export type ExecutorName = "git-patch" | "github" | "webhook";

/** Which executor carries out a card's change; null when accepting only acknowledges. */
export function executorFor(change: Change | null): ExecutorName | null {
  switch (change?.type) {
    case "patch":
      return "git-patch";
    case "github":
      return "github";
    case "webhook":
      return "webhook";
    default:
      return null;
  }
}
