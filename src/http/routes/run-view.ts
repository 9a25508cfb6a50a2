/**
 * How a run looks over HTTP: its metadata, and once it has ended its outcome in plain JSON
 * (`output` when it completed, `error` when it failed; see `json-value.ts` for the conversion).
 * Shared by `GET /runs/:runId` and `GET /runs/:runId/result`; `GET /runs` lists the metadata alone.
 */
import type { Client } from "../../client/client.ts";
import { WorkflowRunCancelledError, WorkflowRunFailedError } from "../../errors/runtime.ts";
import { type RunLanguage, workflowLanguage } from "../../ops/run-language.ts";
import type { RunRecord, RunStatus } from "../../world/types.ts";
import { type JsonValue, toJsonValue } from "../json-value.ts";

/** The JSON body describing a run. */
export interface RunView {
  runId: string;
  workflowName: string;
  status: RunStatus;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  /**
   * The version of the workflow code the run replays with (the hash of its workflow bundle,
   * `RunRecord.bundleHash`); null for a run started before runs were pinned to their code.
   */
  version: string | null;
  /** The SDK the workflow is written in (`ops/run-language.ts` decides, from the workflow id). */
  language: RunLanguage;
  /** The return value, when the run completed. */
  output?: JsonValue;
  /** What the workflow threw (`{ name, message, code?, cause? }`), when the run failed. */
  error?: JsonValue;
}

const iso = (time: number | undefined): string | null =>
  time === undefined ? null : new Date(time).toISOString();

/** The run's outcome as JSON fields; empty while it runs and when it was cancelled. */
async function outcome(client: Client, record: RunRecord): Promise<Pick<RunView, "output" | "error">> {
  if (record.status !== "completed" && record.status !== "failed") return {};
  try {
    return { output: toJsonValue(await client.getRun(record.runId).returnValue) };
  } catch (error) {
    if (WorkflowRunFailedError.is(error)) return { error: toJsonValue(error.cause) };
    if (WorkflowRunCancelledError.is(error)) return {};
    // The stored outcome cannot be read back: a server problem, not the client's.
    throw new Error(`The outcome of run ${record.runId} could not be read.`, { cause: error });
  }
}

/** A run's metadata without its outcome, as `GET /runs` lists it. */
export function runSummary(record: RunRecord): RunView {
  return {
    runId: record.runId,
    workflowName: record.workflowName,
    status: record.status,
    createdAt: new Date(record.createdAt).toISOString(),
    startedAt: iso(record.startedAt),
    completedAt: iso(record.completedAt),
    version: record.bundleHash ?? null,
    language: workflowLanguage(record.workflowName),
  };
}

/** The view of a run record, with its outcome when it has ended (decoded by `client`). */
export async function runView(client: Client, record: RunRecord): Promise<RunView> {
  return { ...runSummary(record), ...(await outcome(client, record)) };
}
