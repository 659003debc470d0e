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

/**
 * Prefixed ids that sort by creation time: 10 chars of milliseconds (base32, Crockford-ish)
 * then 12 random chars, so b-tree inserts stay at the right edge.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(12);
  let rand = "";
  for (const b of bytes) rand += alphabet[b % 32];
  return `${prefixes[kind]}_${time}${rand}`;
}
