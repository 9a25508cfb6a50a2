// The example's Next.js config: withWorkflow compiles "use workflow" / "use step" (Turbopack and webpack).
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { withWorkflow } from "stepwise-workflows/next";

// The example uses the repository's node_modules (two levels up), which in a git worktree may be
// a symlink to another checkout: the workspace root must hold both the app and the real
// node_modules, or Turbopack refuses files outside it. An app of your own does not need this.
const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const modules = realpathSync(dirname(createRequire(import.meta.url).resolve("next/package.json")));
let root = repo;
while (!`${modules}${sep}`.startsWith(`${root}${sep}`)) root = dirname(root);

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // next dev would otherwise write an AGENTS.md into the example.
  agentRules: false,
  experimental: { agentUpgrade: false },
  turbopack: { root },
  outputFileTracingRoot: root,
};

export default withWorkflow(nextConfig);
