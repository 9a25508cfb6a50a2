/**
 * The context of the step attempt currently executing, carried through its async work by
 * AsyncLocalStorage so `getStepMetadata()` and `getWorkflowMetadata()` work anywhere inside a step.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface StepContext {
  runId: string;
  workflowName: string;
  workflowStartedAt: Date;
  stepId: string;
  stepName: string;
  attempt: number;
  stepStartedAt: Date;
}

export const stepContext = new AsyncLocalStorage<StepContext>();
