import { randomBytes } from "node:crypto";

const prefixes = {
  user: "usr",
  invite: "inv",
  apiToken: "tok",
  source: "src",
  signal: "sig",
  card: "crd",
  decision: "dec",
  followUp: "fup",
  execution: "exe",
  mute: "mut",
  push: "psh",
  action: "act",
} as const;

export type IdKind = keyof typeof prefixes;

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

let lastTime = -1;
/** The random part of the last id, as base-32 digits, most significant first. */
let lastRandom: number[] = [];

/**
 * Prefixed ids that sort by creation time: 10 chars of milliseconds (base32, Crockford-ish)
 * then 12 random chars, so b-tree inserts stay at the right edge. An id made in the same
 * millisecond as the one before takes the previous random part plus one, so ids made in one
 * process sort in the order they were made (a batch of signals is processed in write order).
 */
export function newId(kind: IdKind, now = Date.now()): string {
  // A new millisecond, or (astronomically unlikely) 32^12 ids in this one: start afresh.
  if (now !== lastTime || !increment(lastRandom)) {
    lastTime = now;
    lastRandom = [...randomBytes(12)].map((b) => b % 32);
  }
  let time = "";
  let t = lastTime;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefixes[kind]}_${time}${lastRandom.map((d) => alphabet[d]).join("")}`;
}

/** Adds one to base-32 digits in place; false when they were all 31 (they wrap to zeros). */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] !== 31) {
      digits[i] = (digits[i] as number) + 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}
