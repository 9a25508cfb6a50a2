/**
 * `DurableAgent` outside a workflow (imported on the host, as application code may): its
 * constructor refuses a model object, and `stream()` says where it runs; `jsonProblem` names the
 * first value of a tool result that JSON cannot carry.
 */
import { describe, expect, it } from "vitest";
import { jsonProblem } from "../../src/ai/json-check.ts";
import { DurableAgent } from "../../src/ai/workflow.ts";

describe("DurableAgent on the host", () => {
  it("needs a model id, not a model object", () => {
    expect(() => new DurableAgent({ model: { modelId: "gpt" } as never })).toThrow(
      /a model id string .* register it in the worker with customProvider/,
    );
  });

  it("says that stream() runs inside a workflow", async () => {
    await expect(new DurableAgent({ model: "mock" }).stream({ messages: [] })).rejects.toThrow(
      /runs inside a workflow function \("use workflow"\).*start\(\)/,
    );
  });
});

describe("jsonProblem", () => {
  it("accepts JSON and names what is not", () => {
    expect(jsonProblem({ a: [1, "x", null, true, { b: undefined }] })).toBeUndefined();
    expect(jsonProblem(undefined)).toBeUndefined();
    expect(jsonProblem({ items: [1, new Map()] })).toBe("a Map at output.items[1]");
    expect(jsonProblem({ n: Number.NaN })).toBe("NaN at output.n");
    expect(jsonProblem({ f: () => 1 })).toBe("a function at output.f");
    expect(jsonProblem({ big: 1n })).toBe("a bigint at output.big");
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(jsonProblem(cycle)).toBe("a circular reference at output.self");
  });
});
