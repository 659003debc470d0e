import { githubRepositoryOf, remoteRepositories } from "@flick/server/fixer-runtime";
import { describe, expect, it } from "vitest";

describe("which repository the Fixer's checkout is, and which a card is about", () => {
  it("reads owner/name off each remote's address, whatever its form, and no credentials", () => {
    const remotes = [
      "remote.origin.url git@github.com:Acme/Shop.git",
      "remote.mirror.url https://x-access-token:ghp_secret@github.com/acme/shop",
      "remote.ghe.url ssh://git@ghe.example.com:2222/platform/checkout-api.git/",
      "remote.fork.url https://github.com/ada/shop.git",
      "remote.local.url /srv/git/shop.git",
      "",
    ].join("\n");
    const found = remoteRepositories(remotes);
    expect(found).toEqual(["acme/shop", "platform/checkout-api", "ada/shop", "git/shop"]);
    expect(found.join(" ")).not.toContain("secret");
  });

  it("takes a card's repository from its GitHub change, else from a CI card's fingerprint", () => {
    const issue = { type: "github", operation: "create_issue", repository: "acme/api", params: {} };
    expect(githubRepositoryOf({ fingerprint: "error:abc", change: issue })).toBe("acme/api");
    expect(githubRepositoryOf({ fingerprint: "ci:acme/web:CI/unit", change: { type: "none" } })).toBe(
      "acme/web",
    );
    expect(githubRepositoryOf({ fingerprint: "error:abc", change: { type: "none" } })).toBeUndefined();
    expect(
      githubRepositoryOf({ fingerprint: "error:abc", change: { type: "webhook", action: "rollback" } }),
    ).toBeUndefined();
  });
});
