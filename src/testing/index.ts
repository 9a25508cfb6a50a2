/**
 * `stepwise-workflows/testing`: test a workflow in-process, with time under the test's control
 * (`createTestEnv`). For vitest, jest or node:test; the workflow files are compiled as in the
 * application (`node --import stepwise-workflows/register`, or the bundler plugin).
 */
export { createTestEnv, type TestEnv, type TestEnvOptions } from "./env.ts";
export type { TestEvent, TestStep } from "./records.ts";
export { TestRun } from "./run.ts";
