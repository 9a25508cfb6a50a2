/**
 * @internal `stepwise-workflows/internal`: the registration API that compiled code calls. Not for
 * application code; its shape may change between versions together with the compiler.
 */
export {
  markWorkflow,
  registerWorkflowBundleFile,
  registerWorkflowBundleInline,
  stepUnavailable,
  workflowCalledDirectly,
} from "./compiler/runtime-support.ts";
export {
  registerStep,
  registerWorkflowBundle,
  type StepFunction,
  type WorkflowBundleSource,
  type WorkflowReference,
  workflowReference,
} from "./runtime/registry.ts";
export {
  mapSandboxErrorStacks,
  mapSandboxStack,
  registerSandboxSourceMap,
  registerSandboxSourceMapText,
} from "./runtime/sandbox-stack.ts";
