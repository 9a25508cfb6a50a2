// Installs the repository's build of stepwise-workflows into an example's node_modules, as `npm
// install stepwise-workflows` would in an app of your own (run `npm run build` at the repository's
// root first): `node examples/prepare.mjs examples/nextjs` (the example's folder; by default the
// current directory). A copy, not a symlink: Next.js only keeps packages listed in
// serverExternalPackages out of the server bundle when they really sit in node_modules, and
// SvelteKit's adapter-node resolves the package from the example to keep it external; both need
// stepwise-workflows external (one runtime per server process). Every other package (next, react,
// @sveltejs/kit, better-sqlite3, ...) resolves from the repository's node_modules.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const example = resolve(process.argv[2] ?? ".");
const target = join(example, "node_modules", "stepwise-workflows");
if (!existsSync(join(repo, "dist", "vite", "index.js"))) {
  throw new Error(
    `${join(repo, "dist")} has no build of stepwise-workflows: run npm run build in ${repo} first.`,
  );
}
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
cpSync(join(repo, "package.json"), join(target, "package.json"));
cpSync(join(repo, "dist"), join(target, "dist"), { recursive: true });
console.log(`copied ${repo}/dist into ${target}`);
