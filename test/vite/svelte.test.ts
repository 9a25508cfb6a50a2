/**
 * The Vite plugin on Svelte components (`src/vite/svelte.ts`): a workflow or a step defined in a
 * component's `<script>` (instance or module, JavaScript or TypeScript) is an error naming the
 * component, its line and column, on the SSR pass as on the browser one; directives in markup
 * text, in strings, or in Vite's `?svelte&type=style` sub-requests are left alone.
 */
import { describe, expect, it } from "vitest";
import { CompileError } from "../../src/compiler/errors.ts";
import { stepwise, type TransformContext } from "../../src/vite/index.ts";
import { checkSvelteComponent, componentScripts } from "../../src/vite/svelte.ts";

const FILE = "/app/src/routes/+page.svelte";

const COMPONENT = [
  '<script lang="ts">',
  "  let count: number = $state(0);",
  "  async function order(n: number): Promise<number> {",
  '    "use workflow";',
  "    return n;",
  "  }",
  "</script>",
  "",
  "<button onclick={() => order(count)}>go</button>",
  "",
].join("\n");

const context: TransformContext = {
  addWatchFile() {},
  warn() {},
};

function errorOf(run: () => unknown): CompileError {
  try {
    run();
  } catch (error) {
    if (error instanceof CompileError) return error;
    throw error;
  }
  throw new Error("expected a CompileError");
}

describe("Svelte components", () => {
  it("keeps the scripts where they stand and blanks the rest", () => {
    const { code, lang } = componentScripts(COMPONENT);
    expect(lang).toBe("ts");
    expect(code.length).toBe(COMPONENT.length);
    expect(code.split("\n")[3]).toBe('    "use workflow";');
    expect(code).not.toContain("<script");
    expect(code).not.toContain("button");
  });

  it("a workflow in a TypeScript instance script: an error at the component's line and column", () => {
    const error = errorOf(() => checkSvelteComponent(FILE, COMPONENT));
    expect(error.file).toBe(FILE);
    expect([error.line, error.column]).toEqual([4, 5]);
    expect(error.message).toContain("This Svelte component defines order()");
    expect(error.message).toContain("src/lib/server");
  });

  it("a step in a module script, after markup: found too", () => {
    const source = [
      "<h1>Title</h1>",
      "<script module>",
      "  export async function charge() {",
      "    'use step';",
      "    return 1;",
      "  }",
      "</script>",
      "<script>let x = 1;</script>",
    ].join("\n");
    const error = errorOf(() => checkSvelteComponent(FILE, source));
    expect([error.line, error.column]).toEqual([4, 5]);
    expect(error.message).toContain("defines charge()");
  });

  it("directives only in markup text, in strings or in data scripts are left alone", () => {
    const source = [
      "<script>",
      "  const hint = 'write \"use workflow\" in server code';",
      "</script>",
      '<p>Put "use workflow" first in the function body.</p>',
      "<pre>async function f() {'use step'; }</pre>",
      '<svelte:head><script type="application/ld+json">{"@type": "HowTo", "text": "use step"}</script></svelte:head>',
    ].join("\n");
    expect(() => checkSvelteComponent(FILE, source)).not.toThrow();
  });

  it("the plugin refuses the component on the SSR pass as on the browser one, and skips style requests", async () => {
    const plugin = stepwise();
    for (const ssr of [true, false]) {
      const error = await plugin.transform.call(context, COMPONENT, FILE, { ssr }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CompileError);
      expect((error as CompileError).message).toContain("+page.svelte:4:5");
    }
    const style = await plugin.transform.call(context, COMPONENT, `${FILE}?svelte&type=style&lang.css`, {
      ssr: false,
    });
    expect(style).toBeNull();
  });
});
