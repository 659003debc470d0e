/**
 * Swipe gesture logic, free of the DOM so it can be tested: the first few pixels of movement
 * lock the gesture to an axis (vertical scrolls the feed, horizontal decides); a horizontal
 * swipe commits past a distance threshold or with enough speed, otherwise it springs back.
 */
export interface SwipeConfig {
  /** Pixels before the axis is decided. */
  slop: number;
  /** Fraction of the card width that commits a swipe. */
  threshold: number;
  /** px/ms that commits a shorter flick. */
  flickVelocity: number;
}

export const defaultSwipe: SwipeConfig = { slop: 10, threshold: 0.35, flickVelocity: 0.6 };

export type SwipeAxis = "undecided" | "horizontal" | "vertical";

export interface SwipeState {
  startX: number;
  startY: number;
  startT: number;
  axis: SwipeAxis;
  dx: number;
  /** Recent samples for the release velocity. */
  samples: { x: number; t: number }[];
}

export function startSwipe(x: number, y: number, t: number): SwipeState {
  return { startX: x, startY: y, startT: t, axis: "undecided", dx: 0, samples: [{ x, t }] };
}

export function moveSwipe(s: SwipeState, x: number, y: number, t: number, cfg = defaultSwipe): SwipeState {
  const dx = x - s.startX;
  const dy = y - s.startY;
  let axis = s.axis;
  if (axis === "undecided" && Math.hypot(dx, dy) >= cfg.slop) {
    // A diagonal counts as horizontal only when clearly more sideways than up/down.
    axis = Math.abs(dx) > Math.abs(dy) * 1.2 ? "horizontal" : "vertical";
  }
  const samples = [...s.samples, { x, t }].filter((p) => t - p.t <= 100);
  return { ...s, axis, dx: axis === "horizontal" ? dx : 0, samples };
}

/** How far along the decision is: -1 (reject) … 1 (accept), for the label and tint. */
export function swipeProgress(s: SwipeState, width: number, cfg = defaultSwipe): number {
  if (s.axis !== "horizontal" || width <= 0) return 0;
  return Math.max(-1, Math.min(1, s.dx / (width * cfg.threshold)));
}

export type SwipeOutcome = "accept" | "reject" | "cancel";

export function endSwipe(s: SwipeState, width: number, cfg = defaultSwipe): SwipeOutcome {
  if (s.axis !== "horizontal") return "cancel";
  const first = s.samples[0];
  const last = s.samples[s.samples.length - 1];
  const velocity = first && last && last.t > first.t ? (last.x - first.x) / (last.t - first.t) : 0;
  const far = Math.abs(s.dx) >= width * cfg.threshold;
  const flick =
    Math.abs(velocity) >= cfg.flickVelocity &&
    Math.sign(velocity) === Math.sign(s.dx) &&
    Math.abs(s.dx) > cfg.slop * 2;
  if (!far && !flick) return "cancel";
  return s.dx > 0 ? "accept" : "reject";
}
