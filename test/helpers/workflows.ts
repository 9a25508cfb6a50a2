/**
 * Defines workflows for tests without the compiler, through the runtime's registration API (the
 * same one compiled code calls). A workflow is written as a factory whose source is evaluated in
 * the sandbox: it receives `{ steps, api }` (step stubs and the sandbox's `stepwise` module) and
 * returns the workflow function. Step bodies stay host functions.
 */
import type * as Stepwise from "../../src/index.ts";
import {
  registerStep,
  registerWorkflowBundle,
  type StepFunction,
  type WorkflowReference,
  workflowReference,
} from "../../src/runtime/registry.ts";

type AnyFn = (...args: never[]) => unknown;
type Stubs<S> = {
  [K in keyof S]: S[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

export interface SandboxScope<S> {
  steps: Stubs<S>;
  api: typeof Stepwise;
}

type Factories<S> = Record<string, (scope: SandboxScope<S>) => (...args: never[]) => Promise<unknown>>;

type Refs<S, W extends Factories<S>> = {
  [K in keyof W]: ReturnType<W[K]> extends (...args: infer A) => Promise<infer R>
    ? WorkflowReference<A, R>
    : never;
};

export function defineWorkflows<S extends Record<string, AnyFn>, W extends Factories<S>>(
  file: string,
  definition: {
    steps: S;
    workflows: W;
    /**
     * Steps the workflows call that are left out of this process's code (a deploy removed them):
     * their stubs exist in the sandbox, their bodies are not registered (a test may register them
     * later, with `registerStep(stepIds[name], body)`, as a worker that has them would).
     */
    unregistered?: readonly (keyof S)[];
  },
): Refs<S, W> & { stepIds: Record<keyof S, string> } {
  const stepIds = {} as Record<keyof S, string>;
  for (const [name, fn] of Object.entries(definition.steps)) {
    const id = `step//${file}//${name}`;
    if (!definition.unregistered?.includes(name as keyof S)) registerStep(id, fn as StepFunction);
    stepIds[name as keyof S] = id;
  }
  const refs = {} as Record<string, WorkflowReference>;
  const lines = [
    "(() => {",
    "const __name = (target) => target;",
    'const __r = globalThis[Symbol.for("stepwise.sandbox")].registrar;',
    `const steps = { ${Object.keys(definition.steps)
      .map((name) => `${JSON.stringify(name)}: __r.step(${JSON.stringify(`step//${file}//${name}`)})`)
      .join(", ")} };`,
    "const api = __r.api;",
  ];
  for (const [name, factory] of Object.entries(definition.workflows)) {
    const id = `workflow//${file}//${name}`;
    lines.push(`__r.registerWorkflow(${JSON.stringify(id)}, (${factory.toString()})({ steps, api }));`);
    refs[name] = workflowReference(id);
  }
  lines.push("})();");
  registerWorkflowBundle({
    code: lines.join("\n"),
    filename: `${file}.workflows.js`,
    workflowIds: Object.values(refs).map((r) => r.workflowId),
  });
  return Object.assign(refs, { stepIds }) as Refs<S, W> & { stepIds: Record<keyof S, string> };
}
