/**
 * `stepwise-workflows/ai` in workflow code: the sandbox bundle maps the entry to its sandbox module
 * (`src/ai/workflow.ts`, no Node, no `ai` at run time), whose `DurableAgent` calls the agent's
 * built-in steps through the run's registrar; the other host entries stay refused.
 */
import { join } from "node:path";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { AI_STEPS } from "../../src/ai/step-names.ts";
import { CompileError } from "../../src/compiler/errors.ts";
import { buildSandboxBundle } from "../../src/compiler/sandbox-bundle.ts";
import { makeProject } from "../helpers/project.ts";

const project = makeProject({
  "workflows/agent.ts": [
    'import { DurableAgent } from "stepwise-workflows/ai";',
    "",
    "export async function assistant(messages: unknown[]) {",
    '  "use workflow";',
    '  const agent = new DurableAgent({ model: "mock", system: "Be brief." });',
    "  const result = await agent.stream({ messages: messages as never });",
    "  return result.text;",
    "}",
    "",
  ].join("\n"),
  "workflows/http.ts": [
    'import { createHandler } from "stepwise-workflows/http";',
    "",
    "export async function serve() {",
    '  "use workflow";',
    "  return createHandler();",
    "}",
    "",
  ].join("\n"),
});
afterAll(() => project.remove());

describe("stepwise-workflows/ai in the sandbox bundle", () => {
  it("bundles the agent's sandbox module, which calls the agent's steps through the registrar", async () => {
    const outFile = join(project.dir, "out", "agent.sandbox.js");
    const bundle = await buildSandboxBundle(join(project.dir, "workflows", "agent.ts"), { outFile });
    expect(bundle.workflowIds).toEqual(["workflow//workflows/agent.ts//assistant"]);
    expect(bundle.code).not.toMatch(/from "node:|require\("node:/);
    expect(
      [...bundle.inputs.keys()].some((p) => /src\/ai\/workflow\.ts$|dist\/ai\/workflow\.js$/.test(p)),
    ).toBe(true);

    const calls: Array<[string, unknown[]]> = [];
    const chunks: unknown[] = [];
    const workflows = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    const registrar = {
      registerWorkflow: (id: string, fn: (...args: unknown[]) => Promise<unknown>) => workflows.set(id, fn),
      step:
        (id: string) =>
        async (...args: unknown[]) => {
          calls.push([id, args]);
          if (id === AI_STEPS.prepare) return [{ role: "user", content: "hi" }];
          if (id === AI_STEPS.model)
            return { messages: [], finishReason: "stop", toolCalls: [], text: "hello" };
          throw new Error(`unexpected step ${id}`);
        },
      api: {
        getWritable: () => new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
      },
    };
    const context = vm.createContext({ [Symbol.for("stepwise.sandbox")]: { registrar } });
    new vm.Script(bundle.code, { filename: outFile }).runInContext(context);
    const run = workflows.get("workflow//workflows/agent.ts//assistant");
    const ui = [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }];
    expect(await run?.(ui)).toBe("hello");
    expect(calls.map(([id]) => id)).toEqual([AI_STEPS.prepare, AI_STEPS.model]);
    expect(calls[1]?.[1][0]).toMatchObject({
      model: "mock",
      system: "Be brief.",
      messages: [{ role: "user" }],
    });
    expect(chunks).toEqual([
      expect.objectContaining({ type: "start" }),
      { type: "finish", finishReason: "stop" },
    ]);
  });

  it("still refuses the other host entries in workflow code", async () => {
    const error = await buildSandboxBundle(join(project.dir, "workflows", "http.ts"), {
      outFile: join(project.dir, "out", "http.js"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toContain('"stepwise-workflows/http" is for application code and steps');
  });
});
