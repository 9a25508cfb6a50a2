/**
 * Svelte components (`.svelte`) under the Vite plugin. A component is rendered in the browser (and,
 * with SvelteKit, on the server too): whatever its `<script>` blocks define ends up in the browser
 * bundle, so a workflow or a step defined there is a build error naming the component, in `vite
 * dev` as in `vite build`, on the SSR pass as on the client one. The check runs on the component's
 * source (the plugin is `enforce: "pre"`, ahead of the Svelte compiler): everything outside the
 * `<script>` blocks is blanked (newlines kept), so the error's line and column are the component's.
 */
import { CompileError } from "../compiler/errors.ts";
import { PACKAGE_DIRECTIVE_TEXT } from "../compiler/packages.ts";
import { mayContainDirectives, transformDirectives } from "../compiler/transform.ts";

const SCRIPT = /(<script\b[^>]*>)([\s\S]*?)<\/script\s*>/g;
const TYPESCRIPT = /\blang\s*=\s*["']?ts\b/;
/** A `type` that is not JavaScript (`application/ld+json` in `<svelte:head>`): not the component's code. */
const OTHER_TYPE = /\btype\s*=\s*["']?(?!module\b|text\/javascript\b|application\/javascript\b)[^\s"'>]/;

/**
 * The component's scripts as one module: the text of its `<script>` blocks where they stand, every
 * other character blanked (newlines kept), data blocks (`type="application/ld+json"`) too; `lang`
 * is `ts` when a block says `lang="ts"`.
 */
export function componentScripts(source: string): { code: string; lang: "ts" | "js" } {
  const blank = (text: string): string => text.replace(/[^\n]/g, " ");
  let code = "";
  let last = 0;
  let lang: "ts" | "js" = "js";
  for (const match of source.matchAll(SCRIPT)) {
    const [whole, open = "", body = ""] = match;
    if (OTHER_TYPE.test(open)) continue;
    if (TYPESCRIPT.test(open)) lang = "ts";
    code += blank(source.slice(last, match.index + open.length)) + body;
    last = match.index + open.length + body.length;
    code += blank(source.slice(last, match.index + whole.length));
    last = match.index + whole.length;
  }
  return { code: code + blank(source.slice(last)), lang };
}

/**
 * Throws a `CompileError` (file, line, what to do) when a `<script>` block of the component `file`
 * defines a workflow or a step; returns quietly otherwise.
 */
export function checkSvelteComponent(file: string, source: string): void {
  if (!mayContainDirectives(source)) return;
  const { code, lang } = componentScripts(source);
  const result = transformDirectives(code, { filename: file, mode: "client", lang });
  const found = [...result.workflows, ...result.steps];
  if (found.length === 0) return;
  const names = found
    .map((fn) => `${fn.name}()`)
    .sort()
    .join(", ");
  const index = Math.max(0, code.search(PACKAGE_DIRECTIVE_TEXT));
  const before = code.slice(0, index);
  throw new CompileError(
    { file, line: before.split("\n").length, column: index - before.lastIndexOf("\n") },
    `This Svelte component defines ${names} with "use workflow" / "use step": a component's scripts are part of the browser bundle (SvelteKit renders it on the server too, then in the browser). Workflows and steps run only on the Node.js server.`,
    "Move the functions into a server-only module (src/lib/server/…, or a file only +page.server.ts, +server.ts or hooks.server.ts import) and call start() there; the component submits a form action or fetches an endpoint.",
  );
}
