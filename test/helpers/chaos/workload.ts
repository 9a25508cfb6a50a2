/**
 * The workload of the chaos tests (SQLite and PostgreSQL alike): a project whose workflow runs
 * steps that take a few milliseconds (journaled, so kills can be seen landing in them), a durable
 * sleep, and a hook that takes two payloads; its result says which payloads it received. Runs are
 * started from the test process by reference (it is a client: STEPWISE_WORKER=0), each with a fresh
 * index `i`, which names its hook token and fixes its expected result.
 */
import { workflowReference } from "../../../src/runtime/registry.ts";
import { JOURNAL_FILES } from "./step-journal.ts";

/** Payloads each run's hook takes before the workflow moves on. */
export const PAYLOADS_PER_HOOK = 2;
/** What each hook payload adds to the total. */
export const BONUS = 10;
/** How long each step takes (inside its journal lines): long enough for kills to land in steps. */
export const STEP_MS = 20;
/** `step_completed` events each run records: two before the hook, one per payload, one at the end. */
export const STEPS_PER_RUN = 3 + PAYLOADS_PER_HOOK;

export const CHAOS_FILES: Record<string, string> = {
  ...JOURNAL_FILES,
  "workflows/chaos.ts": `
import { createHook, sleep } from "stepwise-workflows";
import { journaled } from "../journal.ts";

async function add(a: number, b: number): Promise<number> {
  "use step";
  return journaled(${STEP_MS}, () => a + b);
}

export async function chaos(i: number) {
  "use workflow";
  let total = await add(i, 1);
  await sleep(50 + (i % 5) * 50);
  total = await add(total, 2);
  const hook = createHook<{ bonus: number; nonce: string }>({ token: \`chaos-\${i}\` });
  const nonces: string[] = [];
  for await (const payload of hook) {
    nonces.push(payload.nonce);
    total = await add(total, payload.bonus);
    if (nonces.length === ${PAYLOADS_PER_HOOK}) break;
  }
  return { total: await add(total, 3), nonces };
}
`,
};

/** The workflow, as `start()` takes it in a process that does not load its file. */
export const chaosWorkflow = workflowReference<[number], ChaosResult>("workflow//workflows/chaos.ts//chaos");

export interface ChaosResult {
  total: number;
  nonces: string[];
}

/** The total run `i` must return. */
export function expectedTotal(i: number): number {
  return i + 1 + 2 + PAYLOADS_PER_HOOK * BONUS + 3;
}
