// Bundles the server into one ESM file; node_modules stay external, workspace sources are inlined.
import { build } from "esbuild";

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  packages: "external",
  // The package and its subpaths ("@flick/shared/moments" → src/moments.ts), as its exports map them.
  alias: { "@flick/shared": "../shared/src" },
  logLevel: "warning",
});
