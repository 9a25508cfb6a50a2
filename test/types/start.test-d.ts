/**
 * Type tests for `start()`, checked by `npm run typecheck` (tsc compiles every file under test/)
 * and never run: each `@ts-expect-error` line must fail to type-check, and tsc reports a directive
 * that has nothing to suppress, so a call that wrongly type-checks fails the typecheck.
 * A workflow that needs arguments cannot be started without them; one that needs none starts
 * with `start(wf)`. Options (`{ id }`) come after the arguments; `startMany` items follow the same
 * rules. A workflow may also be started by name: any arguments, an unknown result.
 */
import { type Run, start, startMany } from "../../src/api/index.ts";
import type { WorkflowReference } from "../../src/runtime/registry.ts";

declare function signup(email: string): Promise<string>;
declare function transfer(from: string, to: string, cents: bigint): Promise<{ ok: boolean }>;
declare function nightly(): Promise<void>;
declare function greet(name?: string): Promise<string>;
declare function notify(...userIds: string[]): Promise<number>;
declare const signupRef: WorkflowReference<[email: string], string>;
declare const byName: WorkflowReference;

/** Never called: the calls below are here for tsc only. */
export async function startTypeTests(): Promise<void> {
  // A workflow with a required argument.
  // @ts-expect-error the arguments are missing
  await start(signup);
  // @ts-expect-error an empty array is not [email: string]
  await start(signup, []);
  // @ts-expect-error a number is not a string
  await start(signup, [42]);
  // @ts-expect-error one argument too many
  await start(signup, ["ada@example.com", "extra"]);
  // @ts-expect-error the arguments are an array, not the value
  await start(signup, "ada@example.com");
  const run: Run<string> = await start(signup, ["ada@example.com"]);
  const email: Promise<string> = run.returnValue;
  void email;

  // @ts-expect-error two of three arguments
  await start(transfer, ["a", "b"]);
  const moved: Run<{ ok: boolean }> = await start(transfer, ["a", "b", 100n]);
  void moved;

  // A workflow without parameters starts with or without an empty array.
  const ran: Run<void> = await start(nightly);
  void ran;
  await start(nightly, []);
  // @ts-expect-error nightly takes no arguments
  await start(nightly, ["x"]);

  // Optional and rest parameters may be left out.
  await start(greet);
  await start(greet, []);
  await start(greet, ["ada"]);
  await start(notify);
  await start(notify, ["u1", "u2"]);
  // @ts-expect-error rest of strings
  await start(notify, [1]);

  // References (what the compiler puts where a workflow function was, or what the CLI builds).
  // @ts-expect-error the reference's workflow needs an email
  await start(signupRef);
  await start(signupRef, ["ada@example.com"]);
  await start(byName);
  await start(byName, [1, "two"]);

  // Options come after the arguments.
  await start(signup, ["ada@example.com"], { id: "signup:ada" });
  await start(nightly, [], { id: "nightly-2026-01-01" });
  await start(nightly, undefined, { id: "nightly-2026-01-02" });
  await start(greet, ["ada"], {});
  // @ts-expect-error the id is a string
  await start(signup, ["ada@example.com"], { id: 7 });
  // @ts-expect-error unknown option
  await start(signup, ["ada@example.com"], { runId: "x" });
  // @ts-expect-error the options do not replace the arguments of a workflow that needs them
  await start(signup, { id: "signup:ada" });

  // startMany: one item per run, in order.
  const runs: Run<string>[] = await startMany(signup, [
    { args: ["ada@example.com"], id: "signup:ada" },
    { args: ["bob@example.com"] },
  ]);
  void runs;
  await startMany(nightly, [{}, { id: "n-1" }, { args: [] }]);
  await startMany(greet, [{ args: ["ada"] }, {}]);
  // @ts-expect-error signup needs its email in every item
  await startMany(signup, [{ id: "signup:ada" }]);
  // @ts-expect-error a number is not a string
  await startMany(signup, [{ args: [42] }]);
  // @ts-expect-error the items are objects, not argument arrays
  await startMany(signup, [["ada@example.com"]]);
  // @ts-expect-error nightly takes no arguments
  await startMany(nightly, [{ args: ["x"] }]);

  // By name (a workflow without code here, e.g. a Python one): any arguments, an unknown result
  // unless the caller says which; keyword arguments are one trailing object.
  const content: Run<unknown> = await start("ai_content_workflow", [{ topic: "x" }]);
  void content;
  const typed: Run<{ title: string }> = await start<{ title: string }>("ai_content_workflow", [
    { topic: "x" },
  ]);
  void typed;
  await start("workflow//app.workflows.nightly//nightly");
  await start("ai_content_workflow", [], { id: "content:1" });
  // @ts-expect-error the arguments are an array
  await start("ai_content_workflow", { topic: "x" });
  // @ts-expect-error unknown option
  await start("ai_content_workflow", [], { runId: "x" });
  const named: Run<unknown>[] = await startMany("ai_content_workflow", [
    { args: [{ topic: "a" }], id: "a" },
    {},
  ]);
  void named;
  // @ts-expect-error the items are objects
  await startMany("ai_content_workflow", [[{ topic: "a" }]]);
}
