// Fails when the schema in server/src/db/schema has changes no migration covers: runs a fresh
// `drizzle-kit generate` into a temporary copy of migrations/ and compares the file lists.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const server = path.join(root, "server");
// drizzle-kit wants `out` relative to its working directory, so the copy lives inside server/.
const tmp = mkdtempSync(path.join(server, ".drizzle-check-"));
const out = path.join(tmp, "migrations");
cpSync(path.join(root, "migrations"), out, { recursive: true });
const configFile = path.join(server, `.drizzle-check-${process.pid}.config.ts`);
writeFileSync(
  configFile,
  `export default { dialect: "postgresql", schema: "./src/db/schema/index.ts", out: ${JSON.stringify(`./${path.relative(server, out)}`)} };\n`,
);
try {
  const output = execFileSync(
    "pnpm",
    ["exec", "drizzle-kit", "generate", "--config", configFile, "--name", "drift_check"],
    {
      cwd: server,
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    },
  );
  const before = readdirSync(path.join(root, "migrations")).sort();
  const after = readdirSync(out).sort();
  const added = after.filter((f) => !before.includes(f));
  if (added.length > 0) {
    console.error(
      `migrations are out of date: a fresh drizzle-kit generate adds ${added.join(", ")}.\n` +
        "Run `pnpm db:generate --name <what_changed>` and commit the result.",
    );
    process.exit(1);
  }
  // drizzle-kit exits 0 even when it fails, so insist on its own "nothing to do" line.
  if (!/No schema changes/.test(output)) {
    console.error(`drizzle-kit generate did not confirm the schema is covered:\n${output}`);
    process.exit(1);
  }
  console.log("migrations match the schema");
} finally {
  rmSync(configFile, { force: true });
  rmSync(tmp, { recursive: true, force: true });
}
