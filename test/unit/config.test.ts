import { ConfigError, loadConfig } from "@flick/server/config";
import { describe, expect, it } from "vitest";

describe("loadConfig", () => {
  it("runs with no environment at all, on the embedded database", () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.DATA_DIR).toMatch(/\.data$/);
  });

  it("names every bad variable, not just the first", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", PUBLIC_URL: "not a url", LOG_LEVEL: "loud" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const key of ["PORT", "DATABASE_URL", "PUBLIC_URL", "LOG_LEVEL"]) expect(message).toContain(key);
    expect(message).toContain('"eighty"');
  });

  it("refuses a session longer than a browser keeps a cookie and a negative retention; takes 0 where 0 means none", () => {
    expect(() => loadConfig({ SESSION_TTL_HOURS: "10000" })).toThrow(/SESSION_TTL_HOURS.*at most 9600/);
    expect(loadConfig({ SESSION_TTL_HOURS: "9600" }).SESSION_TTL_HOURS).toBe(9600);
    expect(() => loadConfig({ SIGNAL_RETENTION_DAYS: "-1" })).toThrow(
      /SIGNAL_RETENTION_DAYS.*0 or more, got "-1"/,
    );
    expect(loadConfig({ SIGNAL_RETENTION_DAYS: "0" }).SIGNAL_RETENTION_DAYS).toBe(0);
    expect(loadConfig({}).SIGNAL_RETENTION_DAYS).toBe(30);
    // A daily token limit of 0 is no limit, as documented.
    expect(loadConfig({ OPENAI_DAILY_TOKENS: "0", FIXER_DAILY_TOKENS: "0" }).OPENAI_DAILY_TOKENS).toBe(0);
  });

  it("treats empty values as unset", () => {
    const config = loadConfig({ PORT: "", DATABASE_URL: "", OPENAI_API_KEY: "" });
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.OPENAI_API_KEY).toBeUndefined();
  });

  it("accepts a PostgreSQL URL and numeric limits", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u@db:5432/flick",
      PORT: "3000",
      MAX_BODY_BYTES: "2048",
    });
    expect(config.DATABASE_URL).toBe("postgres://u@db:5432/flick");
    expect(config.PORT).toBe(3000);
    expect(config.MAX_BODY_BYTES).toBe(2048);
  });
});
