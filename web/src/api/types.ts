/**
 * The shapes the dashboard reads from the run API (docs/http.md): runs, timelines, events, hooks,
 * workflow statistics, step logs and the live hints. Only what the pages use is typed; a payload
 * value is `unknown` JSON, or `{ encrypted: true }` when it is stored encrypted and not decrypted.
 */

export type RunStatus = "pending" | "running" | "pausing" | "paused" | "completed" | "failed" | "cancelled";
export const RUN_STATUSES: readonly RunStatus[] = [
  "pending",
  "running",
  "pausing",
  "paused",
  "completed",
  "failed",
  "cancelled",
];
export type Language = "typescript" | "python";

export interface EncryptedValue {
  encrypted: true;
}

export interface ErrorView {
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
  cause?: unknown;
}

export interface RunView {
  runId: string;
  workflowName: string;
  status: RunStatus;
  createdAt: string;
  startedAt?: string | null;
  completedAt?: string | null;
  version?: string | null;
  language?: Language;
  /** Whether the run's payloads are stored encrypted (not a payload itself). */
  encrypted?: boolean;
  /** In the timeline: the run's arguments. */
  input?: unknown;
  output?: unknown;
  error?: ErrorView | EncryptedValue;
}

export interface RunPage {
  runs: RunView[];
  nextCursor: string | null;
}

export interface AttemptView {
  attempt: number;
  generation?: number;
  startedAt: string;
  endedAt: string | null;
  outcome: string;
  retryAt?: string | null;
  error?: ErrorView | EncryptedValue;
}

export interface StepView {
  stepId: string;
  name: string;
  attempts: AttemptView[];
  input?: unknown;
  output?: unknown;
  error?: ErrorView | EncryptedValue;
}

export interface WaitView {
  kind: "sleep" | "hook" | "event" | string;
  name: string;
  id: string;
  startedAt: string;
  endedAt: string | null;
  /** sleep: when it ends; event: when it times out. */
  until?: string | null;
  outcome?: string;
  token?: string;
  received?: string[];
}

export interface ChildView {
  runId: string;
  workflowName: string;
  startedAt: string;
  endedAt: string | null;
  status: RunStatus;
}

export interface GenerationView {
  generation: number;
  startedAt: string;
  fromStep?: string;
}

export interface Timeline {
  run: RunView;
  generations: GenerationView[];
  steps: StepView[];
  waits: WaitView[];
  children: ChildView[];
}

export interface EventView {
  seq: number;
  type: string;
  at: string;
  stepId?: string;
  payload?: unknown;
  [field: string]: unknown;
}

export interface EventPage {
  events: EventView[];
  nextCursor: string | null;
}

export interface HookView {
  token: string;
  hookId: string;
  /** A webhook takes whole requests at its URL, not `POST /hooks/:token`. */
  kind?: "hook" | "webhook";
  status: string;
  createdAt: string;
  receivedCount?: number;
}

/** One of a run's durable streams (`GET /runs/:runId/streams`). */
export interface StreamInfoView {
  name: string;
  /** Chunks written so far. */
  length: number;
  closed: boolean;
}

export interface WorkflowStats {
  workflowName: string;
  language: Language;
  counts: Partial<Record<RunStatus, number>>;
  durationMs: { p50: number; p95: number } | null;
}

/** A line of `GET /runs/:runId/logs`: a step attempt's output, or the workflow body's (step null). */
export interface LogLine {
  stepId: string | null;
  stepName: string | null;
  attempt: number | null;
  at: string;
  /** `log`, `info`, `warn`, `error`, …, `stdout`, `stderr`, or `truncated`. */
  level?: string;
  text?: string;
  /** An encrypted attempt's output: one entry standing for `lines` lines. */
  encrypted?: true;
  lines?: number;
}

export interface LogPage {
  logs: LogLine[];
  nextCursor?: string | null;
}

/** What a `run` event of `GET /live` carries. */
export interface RunHint {
  runId: string;
  status?: RunStatus;
  workflowName?: string;
}

/** Whether a payload value is the placeholder of an encrypted one. */
export function isEncrypted(value: unknown): value is EncryptedValue {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { encrypted?: unknown }).encrypted === true &&
    Object.keys(value).length === 1
  );
}
