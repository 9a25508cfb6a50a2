/**
 * `stepwise-workflows/vite`: the Vite plugin. `stepwise()` compiles `"use workflow"` and
 * `"use step"` in the app's server code, in dev (`vite dev`, `ssrLoadModule`) and in builds
 * (`vite build --ssr`), through the same compile as the Next.js loader (`compileForBundler`): a
 * server module carries its sandbox bundle inlined, so the built server runs from `dist/` with
 * nothing beside it; a directive reaching the browser bundle is a build error naming the file.
 * A Svelte component (`.svelte`) that defines one is a build error too, on the server pass as
 * well (`svelte.ts`). It keeps `stepwise-workflows` external in SSR, so the server loads one copy
 * of the runtime. Works under SvelteKit (`plugins: [sveltekit(), stepwise()]`). `startWorker()`
 * (the same as `stepwise-workflows/next`'s, loading nothing until called) is for the server's start
 * hook, e.g. SvelteKit's `init` in hooks.server. See docs/frameworks.md.
 */
import type { SourceMapJson } from "../compiler/compile.ts";

/** The part of Vite's plugin interface this plugin uses (`vite` is not a dependency). */
export interface StepwiseVitePlugin {
  name: string;
  enforce: "pre";
  config(): { ssr: { external: string[] } };
  transform(
    this: TransformContext,
    code: string,
    id: string,
    options?: { ssr?: boolean },
  ): Promise<{ code: string; map: SourceMapJson } | null>;
}

/** What the plugin calls on Vite's (Rollup's) transform context. */
export interface TransformContext {
  addWatchFile(file: string): void;
  warn(message: string): void;
}

/** A Svelte component's own source (not Vite's `?svelte&type=style` sub-requests). */
const SVELTE_COMPONENT = /\.svelte$/;

/** Strips Vite's query (`?v=…`, `?import`) from a module id; `undefined` for virtual modules. */
function fileOf(id: string): string | undefined {
  if (id.startsWith("\0") || id.startsWith("virtual:")) return undefined;
  const file = id.replace(/[?#].*$/, "");
  return file.startsWith("/@fs/") ? file.slice(4) : file;
}

/**
 * The Vite plugin: add it to `plugins` in vite.config (`plugins: [stepwise()]`). Modules
 * transformed for SSR are compiled in host mode; modules for the browser must not define
 * workflows or steps.
 */
export function stepwise(): StepwiseVitePlugin {
  return {
    name: "stepwise",
    enforce: "pre",
    config: () => ({ ssr: { external: ["stepwise-workflows"] } }),
    async transform(code, id, options) {
      const file = fileOf(id);
      if (file === undefined) return null;
      // The compiler is loaded on first use: the server imports this module too, for startWorker().
      if (SVELTE_COMPONENT.test(id)) {
        (await import("./svelte.ts")).checkSvelteComponent(file, code);
        return null;
      }
      const { compileForBundler } = await import("../compiler/bundler.ts");
      const result = await compileForBundler(file, code, options?.ssr ? "server" : "client");
      if (result === undefined) return null;
      for (const dependency of result.dependencies) this.addWatchFile(dependency);
      for (const warning of result.warnings) this.warn(warning.toString());
      return { code: result.code, map: result.map };
    },
  };
}

export { startWorker } from "../next/worker.ts";

export default stepwise;
