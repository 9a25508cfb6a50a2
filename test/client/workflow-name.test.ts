/**
 * Starting a workflow by name (`src/client/workflow-name.ts`): a full id is taken as it is; a
 * plain name (or a tail of an id) is found among the workflows registered in this process, those
 * live workers registered with the server (the client's `liveWorkflows`, or `World.workers`), and
 * the workflow names of stored runs. No match is a `WorkflowNotFoundError` that lists the known
 * workflows (or, with none, says to start the worker or give the full id); several are an
 * `AmbiguousWorkflowNameError` naming them; neither writes anything. A run of a workflow this
 * process has no code for is created unpinned, its arguments (keyword arguments as one trailing
 * object) stored as given; one this process has is pinned to its bundle as `start(fn)` pins it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../../src/api/index.ts";
import { pickWorkflow } from "../../src/client/workflow-name.ts";
import {
  AmbiguousWorkflowNameError,
  WorkflowNotFoundError,
  WorkflowNotRegisteredError,
} from "../../src/errors/runtime.ts";
import { decodeValue } from "../../src/serde/codec.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const local = defineWorkflows("test/workflow-name.ts", {
  steps: {},
  workflows: {
    tsReport: () =>
      async function tsReport(topic: string) {
        return topic;
      },
  },
});
const LOCAL_ID = local.tsReport.workflowId;
const PYTHON_ID = "workflow//app.workflows.ai_content_workflow//ai_content_workflow";
const OTHER_PYTHON_ID = "workflow//app.other//ai_content_workflow";
const STORED_ID = "workflow//app.billing//invoice";

const worlds: World[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

/** A client of a fresh memory World whose server's live workers registered `live`. */
function clientWith(live: readonly string[] = []) {
  const world = createMemoryWorld();
  worlds.push(world);
  return { world, client: createClient({ world, liveWorkflows: async () => live }) };
}

describe("pickWorkflow", () => {
  const known = [LOCAL_ID, PYTHON_ID, STORED_ID];

  it("takes a full id as it is, known or not; refuses a malformed one", () => {
    expect(pickWorkflow(PYTHON_ID, known)).toBe(PYTHON_ID);
    expect(pickWorkflow("workflow//app.new//later", [])).toBe("workflow//app.new//later");
    expect(pickWorkflow("workflow//workflows/order.ts//order", [])).toBe(
      "workflow//workflows/order.ts//order",
    );
    for (const malformed of ["workflow//", "workflow//report", "workflow////report", "workflow//a//"]) {
      const error = catchError(() => pickWorkflow(malformed, known));
      expect(WorkflowNotFoundError.is(error), malformed).toBe(true);
      expect((error as Error).message).toContain("is not a workflow id");
    }
  });

  it("finds a plain name, or a tail of the id, by the id's end", () => {
    expect(pickWorkflow("ai_content_workflow", known)).toBe(PYTHON_ID);
    expect(pickWorkflow("app.workflows.ai_content_workflow//ai_content_workflow", known)).toBe(PYTHON_ID);
    expect(pickWorkflow("tsReport", known)).toBe(LOCAL_ID);
    // Only whole names: a name that is the end of another name is not it.
    expect(() => pickWorkflow("content_workflow", known)).toThrow(WorkflowNotFoundError);
  });

  it("an unknown name is a WorkflowNotFoundError listing the known workflows", () => {
    const error = catchError(() => pickWorkflow("nope", known));
    expect(WorkflowNotFoundError.is(error)).toBe(true);
    expect(WorkflowNotRegisteredError.is(error)).toBe(true);
    expect((error as WorkflowNotFoundError).known).toEqual(known);
    const { message } = error as Error;
    expect(message).toContain('No workflow named "nope"');
    expect(message).toContain(`ai_content_workflow (${PYTHON_ID})`);
    expect(message).toContain("start that worker first, or start the workflow by its full id");
  });

  it("with no workflow known, says to start the worker first or to give the full id", () => {
    const { message } = catchError(() => pickWorkflow("ai_content_workflow", [])) as Error;
    expect(message).toContain("No workflow is known");
    expect(message).toContain("python -m stepwise worker");
    expect(message).toContain("full id (workflow//<module or file>//<name>)");
  });

  it("a name two workflows have is an AmbiguousWorkflowNameError naming both", () => {
    const error = catchError(() => pickWorkflow("ai_content_workflow", [...known, OTHER_PYTHON_ID]));
    expect(AmbiguousWorkflowNameError.is(error)).toBe(true);
    expect((error as AmbiguousWorkflowNameError).matches).toEqual([PYTHON_ID, OTHER_PYTHON_ID]);
    expect((error as Error).message).toContain(PYTHON_ID);
    expect((error as Error).message).toContain(OTHER_PYTHON_ID);
    expect((error as Error).message).toContain("full id");
  });
});

describe("start and startMany by name", () => {
  it("knows the workflows of this process, of live workers and of stored runs", async () => {
    const { world, client } = clientWith([PYTHON_ID]);
    await world.runs.create({
      runId: "wrun_stored",
      workflowName: STORED_ID,
      specVersion: 4,
      seed: "0123456789abcdef0123456789abcdef",
      encrypted: false,
      input: new Uint8Array([1, 91, 93]),
    });
    expect(await client.resolveWorkflowName("ai_content_workflow")).toBe(PYTHON_ID);
    expect(await client.resolveWorkflowName("invoice")).toBe(STORED_ID);
    expect(await client.resolveWorkflowName("tsReport")).toBe(LOCAL_ID);
    const error = await client.resolveWorkflowName("nope").catch((e: unknown) => e);
    expect((error as WorkflowNotFoundError).known).toEqual(
      expect.arrayContaining([PYTHON_ID, STORED_ID, LOCAL_ID]),
    );
  });

  it("reads the live workers' workflows from the World when the client is not told them", async () => {
    const world = createMemoryWorld();
    worlds.push(world);
    const withWorkers: World = { ...world, workers: { workflows: async () => [PYTHON_ID] } };
    const client = createClient({ world: withWorkers });
    expect(await client.resolveWorkflowName("ai_content_workflow")).toBe(PYTHON_ID);
  });

  it("starts a workflow without code here unpinned, its keyword arguments one trailing object", async () => {
    const { world, client } = clientWith([PYTHON_ID]);
    const run = await client.start("ai_content_workflow", [{ topic: "x" }]);
    const record = await world.runs.get(run.runId);
    expect(record).toMatchObject({ workflowName: PYTHON_ID, status: "pending" });
    expect(record.bundleHash).toBeUndefined();
    const [created] = await world.events.list(run.runId);
    expect(created?.data).not.toHaveProperty("bundleHash");
    const decoded = decodeValue(client.payloadCodec().decode(record, places.runInput, record.input));
    expect(decoded).toEqual([{ topic: "x" }]);
  });

  it("pins a workflow this process has, as start(fn) does", async () => {
    const { world, client } = clientWith();
    const run = await client.start("tsReport", ["t"]);
    expect((await world.runs.get(run.runId)).bundleHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("startMany by name starts the batch, with ids", async () => {
    const { world, client } = clientWith([PYTHON_ID]);
    const runs = await client.startMany("ai_content_workflow", [
      { args: [{ topic: "a" }], id: "content-a" },
      { args: [{ topic: "b" }] },
    ]);
    expect(runs[0]?.runId).toBe("content-a");
    for (const run of runs) expect((await world.runs.get(run.runId)).workflowName).toBe(PYTHON_ID);
  });

  it("an unknown or ambiguous name writes nothing", async () => {
    const { world, client } = clientWith([PYTHON_ID, OTHER_PYTHON_ID]);
    await expect(client.start("nope", [])).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(client.startMany("ai_content_workflow", [{ args: [] }])).rejects.toBeInstanceOf(
      AmbiguousWorkflowNameError,
    );
    expect((await world.runs.list()).items).toEqual([]);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
