import { hashPassword, randomToken, sha256, verifyPassword } from "@flick/server/crypto";
import { newId } from "@flick/server/ids";
import { describe, expect, it } from "vitest";

describe("password hashing", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(hash).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", hash)).toBe(false);
  });

  it("salts: the same password hashes differently twice", async () => {
    expect(await hashPassword("same password")).not.toBe(await hashPassword("same password"));
  });

  it("rejects a malformed stored hash instead of throwing", async () => {
    expect(await verifyPassword("x", "md5$abc")).toBe(false);
  });
});

describe("tokens and ids", () => {
  it("makes unguessable tokens and stable hashes", () => {
    const a = randomToken();
    expect(a).not.toBe(randomToken());
    expect(a.length).toBeGreaterThanOrEqual(43);
    expect(sha256("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("prefixes ids by kind and sorts them by creation time", () => {
    const early = newId("card", 1_700_000_000_000);
    const late = newId("card", 1_700_000_000_001);
    expect(early).toMatch(/^crd_[0-9a-z]{22}$/);
    expect(newId("signal")).toMatch(/^sig_/);
    expect(early < late).toBe(true);
  });

  it("sorts ids made in the same millisecond in the order they were made", () => {
    const made = Array.from({ length: 2000 }, () => newId("signal", 1_700_000_000_000));
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
  });
});
