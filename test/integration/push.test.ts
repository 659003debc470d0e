import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from "node:crypto";
import * as schema from "@flick/server/schema";
import type { Card } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCard } from "../helpers/db.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { type RecordedRequest, startRecorder } from "../helpers/http-recorder.ts";

const b64url = (b: Buffer) => b.toString("base64url");

/** A browser's side of a push subscription: its P-256 key pair and auth secret. */
function deviceKeys() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } };
}

/**
 * Decrypts an aes128gcm Web Push body (RFC 8188 + RFC 8291), written here from the RFCs rather
 * than with the library the server sends with, as a browser would.
 */
function decrypt(body: Buffer, device: ReturnType<typeof deviceKeys>): string {
  const salt = body.subarray(0, 16);
  const idlen = body[20] as number;
  const serverPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const shared = device.ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), device.ecdh.getPublicKey(), serverPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", shared, device.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  const end = padded.lastIndexOf(2); // the last record's delimiter, then zero padding
  return padded.subarray(0, end).toString();
}

/** Checks a VAPID Authorization header (RFC 8292) against the server's public key. */
function vapidClaims(header: string, publicKey: string): Record<string, unknown> {
  const m = /^vapid t=([^,]+), k=(.+)$/.exec(header);
  if (!m) throw new Error(`not a vapid header: ${header}`);
  expect(m[2]).toBe(publicKey);
  const [h, p, sig] = (m[1] as string).split(".") as [string, string, string];
  const point = Buffer.from(publicKey, "base64url");
  const key = createPublicKey({
    key: { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) },
    format: "jwk",
  });
  const ok = verify(
    "sha256",
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(sig, "base64url"),
  );
  expect(ok).toBe(true);
  return JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
}

describe.each(drivers)("web push on %s", (driver) => {
  // A local push service (what FCM or Mozilla's autopush are to real browsers).
  let service: Awaited<ReturnType<typeof startRecorder>>;
  let t: TestApp;
  let rita: string;
  let publicKey: string;
  const phone = deviceKeys();

  beforeAll(async () => {
    service = await startRecorder((req) =>
      req.path.endsWith("/gone") ? { status: 410, text: "" } : { status: 201, text: "" },
    );
    t = await startTestApp(driver, { PUSH_ALLOW_HTTP: "true" });
    rita = await t.setupAdmin();
    // Without PUSH_ALLOW_HTTP only https endpoints are taken: the server POSTs to them.
    const strict = await startTestApp(driver);
    const admin = await strict.setupAdmin();
    const refused = await strict.request("/api/push/subscriptions", {
      cookie: admin,
      json: { endpoint: "http://127.0.0.1:5432/", keys: phone.keys },
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("push endpoints must be https URLs");
    await strict.close();
    const res = await t.request<{ publicKey: string; devices: number }>("/api/push", { cookie: rita });
    expect(res.status).toBe(200);
    publicKey = res.body.publicKey;
    expect(Buffer.from(publicKey, "base64url")).toHaveLength(65);
    const sub = await t.request("/api/push/subscriptions", {
      cookie: rita,
      json: { endpoint: `${service.url}/push/phone`, keys: phone.keys },
    });
    expect(sub.status, sub.text).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
  });

  const cardOf = async (priority: number, title = `Card at ${priority}`) => {
    const row = await insertCard(t.database.db, { priority, title, summary: "checkout_success dropped 38%" });
    return (await t.request<{ card: Card }>(`/api/cards/${row.id}`, { cookie: rita })).body.card;
  };
  const pushesSince = (n: number) => service.requests.slice(n).filter((r) => r.method === "POST");
  const prefs = (p: object) =>
    t.request("/api/push/preferences", {
      method: "PUT",
      cookie: rita,
      json: { threshold: 0.7, maxPerHour: 3, quietStart: null, quietEnd: null, timeZone: "UTC", ...p },
    });

  it("pushes a card above the threshold: encrypted for the device, signed with the server's VAPID key", async () => {
    const card = await cardOf(0.95, "checkout_success dropped 38% at 14:05");
    const before = service.requests.length;
    const outcomes = await t.pushNotifier().notify(card);
    expect([...outcomes.values()]).toEqual(["sent"]);
    const [push] = pushesSince(before) as [RecordedRequest];
    expect(push.path).toBe("/push/phone");
    expect(push.headers["content-encoding"]).toBe("aes128gcm");
    expect(push.headers.urgency).toBe("high");
    expect(Number(push.headers.ttl)).toBeGreaterThan(0);
    const claims = vapidClaims(String(push.headers.authorization), publicKey);
    expect(claims.aud).toBe(service.url);
    expect(claims.sub).toMatch(/^mailto:/);
    const message = JSON.parse(decrypt(push.raw, phone)) as Record<string, string>;
    expect(message).toEqual({
      title: "checkout_success dropped 38% at 14:05",
      body: "checkout_success dropped 38%",
      cardId: card.id,
      url: `/?card=${card.id}`,
    });
    // The same card never interrupts twice, even from two processes at once.
    const again = await Promise.all([t.pushNotifier().notify(card), t.pushNotifier().notify(card)]);
    expect(again.flatMap((o) => [...o.values()])).toEqual(["already sent", "already sent"]);
    expect(pushesSince(before)).toHaveLength(1);
  });

  it("stays quiet below the threshold, in quiet hours and past the hourly budget", async () => {
    const before = service.requests.length;
    expect([...(await t.pushNotifier().notify(await cardOf(0.5))).values()]).toEqual(["below threshold"]);

    const hour = t.clock.now().getUTCHours();
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, "0")}:00`;
    expect((await prefs({ quietStart: hh(hour), quietEnd: hh(hour + 2) })).status).toBe(200);
    expect([...(await t.pushNotifier().notify(await cardOf(0.99))).values()]).toEqual(["quiet hours"]);
    // The same hours seen from a time zone where they are not now.
    expect(
      (await prefs({ quietStart: hh(hour), quietEnd: hh(hour + 2), timeZone: "Asia/Kolkata" })).status,
    ).toBe(200);
    expect([...(await t.pushNotifier().notify(await cardOf(0.99))).values()]).toEqual(["sent"]);

    // Two an hour: one was sent in the first test and one just now.
    expect((await prefs({ maxPerHour: 2 })).status).toBe(200);
    expect([...(await t.pushNotifier().notify(await cardOf(0.99))).values()]).toEqual(["over budget"]);
    expect(pushesSince(before)).toHaveLength(1);
    // An hour later the budget is back.
    t.clock.advance(61 * 60_000);
    expect([...(await t.pushNotifier().notify(await cardOf(0.99))).values()]).toEqual(["sent"]);
  });

  it("never interrupts anyone with a demo card, however high it ranks", async () => {
    const before = service.requests.length;
    const at = t.clock.now().toISOString();
    const rows = [
      await insertCard(t.database.db, { priority: 0.99, agent: "demo", title: "A hand-written sample" }),
      await insertCard(t.database.db, {
        priority: 0.99,
        agent: "metrics",
        title: "A card the agents made from sample signals",
        evidence: { signalIds: [], count: 1, firstSeen: at, lastSeen: at, links: [], facts: {}, demo: true },
      }),
    ];
    for (const row of rows) {
      const { card } = (await t.request<{ card: Card }>(`/api/cards/${row.id}`, { cookie: rita })).body;
      expect([...(await t.pushNotifier().notify(card)).values()], card.title).toEqual(["demo card"]);
    }
    expect(pushesSince(before)).toHaveLength(0);
  });

  it("forgets a device the push service says is gone", async () => {
    const tablet = deviceKeys();
    const res = await t.request("/api/push/subscriptions", {
      cookie: rita,
      json: { endpoint: `${service.url}/push/gone`, keys: tablet.keys },
    });
    expect(res.body).toEqual({ devices: 2 });
    expect((await prefs({ maxPerHour: 60 })).status).toBe(200);
    await t.pushNotifier().notify(await cardOf(0.99));
    const left = await t.database.db.select().from(schema.pushSubscriptions);
    expect(left.map((s) => s.endpoint)).toEqual([`${service.url}/push/phone`]);
    expect(left[0]?.lastSentAt).not.toBeNull();
  });

  it("sends every new card through a running notifier, live", async () => {
    const notifier = t.pushNotifier();
    await notifier.start(await startHub(t));
    const before = service.requests.length;
    const card = await insertCard(t.database.db, { priority: 0.97, title: "payments 5xx spike" });
    const deadline = Date.now() + 10_000;
    while (pushesSince(before).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await notifier.stop();
    const [push] = pushesSince(before) as [RecordedRequest];
    expect(JSON.parse(decrypt(push.raw, phone)).cardId).toBe(card.id);
  });

  it("names the problem with a bad subscription or bad preferences, and stores nothing", async () => {
    const bad = await t.request<{ error: { message: string } }>("/api/push/subscriptions", {
      cookie: rita,
      json: { endpoint: "ftp://push.example", keys: { p256dh: "x", auth: "y" } },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/endpoint/);
    expect(bad.text).toMatch(/p256dh/);
    const half = await prefs({ quietStart: "22:00" });
    expect(half.status).toBe(400);
    expect(half.text).toContain("give both ends of the quiet hours");
    const zone = await prefs({ timeZone: "Mars/Olympus" });
    expect(zone.text).toContain("not a time zone");
    const unknown = await t.request("/api/push/subscriptions", {
      method: "DELETE",
      cookie: rita,
      json: { endpoint: "https://push.example/nope" },
    });
    expect(unknown.status).toBe(404);
    expect(await t.database.db.select().from(schema.pushSubscriptions)).toHaveLength(1);
    // The refused preferences changed nothing: the last good ones stand.
    const stored = await t.database.db.select().from(schema.pushPreferences);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ maxPerHour: 60, quietStart: null, quietEnd: null, timeZone: "UTC" });
  });
});

/** The app's own card-event hub, as the server process wires it. */
async function startHub(t: TestApp) {
  const { CardEventHub } = await import("@flick/server/card-hub");
  const { createLogger } = await import("@flick/server/logger");
  return new CardEventHub(t.database, createLogger({ level: "silent" }));
}
