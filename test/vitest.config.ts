import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./helpers/summary-reporter.ts"],
    // Two cores: more workers than that only thrash, and each PGlite holds its own Postgres.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "unit",
          include: ["unit/**/*.test.ts"],
          // Some unit tests compute over whole fixture sets (training the feedback model twice takes
          // ~3 s alone, 6 s on a busy two-core machine): the timeout guards against a hang, it is
          // not a speed goal (those live in pnpm bench).
          testTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "integration",
          include: ["integration/**/*.test.ts"],
          // A guard against a hang, not a speed goal (those live in pnpm bench): the heaviest tests
          // (whole NAB series through the agents, many metric series at once) take 15 s alone and
          // took 33 s in a clean-clone CI run with both workers busy on this two-core machine.
          testTimeout: 90_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["e2e/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // A browser on a busy two-core machine can take longer than expect.poll's default 1 s to
          // settle (a service worker handling a push, a scroll finishing); what is asserted is unchanged.
          expect: { poll: { timeout: 10_000 } },
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
