/**
 * The webpack loader that `withWorkflow()` puts in front of Next.js's own compiler, for webpack
 * and for Turbopack (which runs webpack loaders through the same API). Options:
 * `{ target: "server" | "client" }` (see `compileForBundler`). It sees the file's original source,
 * before Next strips types, and hands back JavaScript with a source map to the user's file.
 */
import { type BundlerTarget, compileForBundler } from "../compiler/bundler.ts";

/** The part of webpack's loader context this loader uses (Turbopack implements the same subset). */
export interface LoaderContext {
  resourcePath: string;
  async(): (error: Error | null, code?: string, map?: object) => void;
  getOptions?(): { target?: BundlerTarget };
  addDependency?(file: string): void;
  emitWarning?(warning: Error): void;
}

/** Compiles one module for the loader's target; files without directives pass through unchanged. */
export default function stepwiseLoader(this: LoaderContext, source: string, map?: object): void {
  const callback = this.async();
  const target = this.getOptions?.().target === "client" ? "client" : "server";
  compileForBundler(this.resourcePath, source, target).then(
    (result) => {
      if (result === undefined) return callback(null, source, map);
      for (const file of result.dependencies) this.addDependency?.(file);
      for (const warning of result.warnings) this.emitWarning?.(new Error(warning.toString()));
      callback(null, result.code, result.map);
    },
    (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
  );
}
