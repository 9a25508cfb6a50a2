/**
 * What the loader hooks do with one user file: compile it in host mode, and when it defines
 * workflows, get its sandbox bundle from the cache (building it if an input changed) and point the
 * module's bundle registration at it. The module comes back with an inline source map, so Node's
 * stack traces (source maps are enabled by `stepwise-workflows/register`) show the user's file and line.
 */
import { pathToFileURL } from "node:url";
import { ensureSandboxBundle } from "../compiler/bundle-cache.ts";
import { compile, withInlineMap } from "../compiler/compile.ts";
import type { CompileWarning } from "../compiler/errors.ts";

const PLACEHOLDER = "stepwise:sandbox-bundle";

export interface CompiledModule {
  source: string;
  warnings: CompileWarning[];
  /** Whether the transform changed the file (workflows, steps, serializable classes), beyond stripping types. */
  compiled: boolean;
}

/** Compiles the file at `path` (with content `source`) in host mode, with its sandbox bundle when it defines workflows. */
export async function compileModule(path: string, source: string): Promise<CompiledModule> {
  const result = await compile(source, { filename: path, mode: "host", sandboxBundle: PLACEHOLDER });
  let code = result.code;
  const warnings = [...result.warnings];
  if (result.workflows.length > 0) {
    const bundle = await ensureSandboxBundle(path);
    warnings.push(...bundle.warnings);
    code = code.replace(JSON.stringify(PLACEHOLDER), JSON.stringify(pathToFileURL(bundle.file).href));
  }
  return { source: withInlineMap(code, result.map), warnings, compiled: result.changed };
}
