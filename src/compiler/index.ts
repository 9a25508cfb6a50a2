/**
 * The compiler's library surface, for the CLI (`npx stepwise build`), the loader hooks and tests:
 * compile one file for a mode, build a workflow file's sandbox bundle (cached or not), build a
 * whole project ahead of time, and map sandbox stack traces.
 */

export { mapSandboxErrorStacks, mapSandboxStack } from "../runtime/sandbox-stack.ts";
export { type BuildProjectOptions, type BuildProjectResult, buildProject } from "./build.ts";
export { type CachedBundle, defaultCacheDir, ensureSandboxBundle } from "./bundle-cache.ts";
export { type CompileOptions, type CompileResult, compile, type SourceMapJson } from "./compile.ts";
export { CompileError, CompileWarning } from "./errors.ts";
export { findProjectRoot } from "./project.ts";
export { buildSandboxBundle, type SandboxBundle, type SandboxBundleOptions } from "./sandbox-bundle.ts";
export {
  type CompiledFunction,
  type CompileMode,
  mayContainDirectives,
  type TransformOptions,
  type TransformResult,
  transformDirectives,
} from "./transform.ts";
