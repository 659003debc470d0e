import { describe, expect, it } from "vitest";
import { ApiError, errorMessage } from "../../web/src/lib/api.ts";

const answer = (status: number, message: string) =>
  new ApiError(status, { error: { code: "conflict", message } } as ConstructorParameters<typeof ApiError>[1]);

describe("the server's error shown to a person", () => {
  it("starts the API's message as a sentence, leaving a field's name as it is", () => {
    expect(errorMessage(answer(409, 'a source named "CI" already exists'))).toBe(
      'A source named "CI" already exists',
    );
    expect(errorMessage(answer(409, "the team needs at least one active admin"))).toBe(
      "The team needs at least one active admin",
    );
    expect(errorMessage(answer(400, "snoozeUntil: must be in the future"))).toBe(
      "snoozeUntil: must be in the future",
    );
    expect(errorMessage(answer(409, "Ada already snoozed this card (Nov 27, 05:26 UTC)."))).toBe(
      "Ada already snoozed this card (Nov 27, 05:26 UTC).",
    );
  });

  it("says the server cannot be reached, and something went wrong for anything else", () => {
    expect(errorMessage(new ApiError(0, null))).toBe("Can't reach the server. Check your connection.");
    expect(errorMessage(new Error("boom"))).toBe("Something went wrong.");
  });
});
