// `pnpm start`: builds the web app and the server bundle when their sources are newer than the
// last build, then runs the server in this process. Needs nothing but Node and the installed deps.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`flick: Node ${process.versions.node} is too old; Node 20.19 or newer is needed.`);
  process.exit(1);
}

function newest(...paths) {
  let latest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const name of readdirSync(p))
        if (name !== "node_modules" && name !== "dist") visit(path.join(p, name));
    } else latest = Math.max(latest, s.mtimeMs);
  };
  for (const p of paths) visit(p);
  return latest;
}

function builtAt(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

const shared = path.join(root, "shared/src");
const web = path.join(root, "web");
const server = path.join(root, "server");

if (
  builtAt(path.join(web, "dist/index.html")) <
  newest(
    path.join(web, "src"),
    path.join(web, "public"),
    path.join(web, "index.html"),
    path.join(web, "vite.config.ts"),
    shared,
  )
) {
  console.log("flick: building the web app…");
  execFileSync(
    process.execPath,
    [path.join(web, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"],
    {
      cwd: web,
      stdio: "inherit",
    },
  );
}
if (
  builtAt(path.join(server, "dist/main.js")) <
  newest(path.join(server, "src"), path.join(server, "build.mjs"), shared)
) {
  console.log("flick: building the server…");
  execFileSync(process.execPath, ["build.mjs"], { cwd: server, stdio: "inherit" });
}

await import(pathToFileURL(path.join(server, "dist/main.js")).href);
