/**
 * `stepwise-workflows/world`: everything needed to write a World of one's own (docs/world.md). The
 * World interface and the records it stores (`types.ts`), the events of a run's log
 * (`events.ts`), the error contract — every error class a World throws, each with its stable
 * `code` and a `static is()` that works across realms — and the memory World, the reference
 * implementation (also handy to wrap or to test against). The conformance suite that holds a World
 * to this contract is `stepwise-workflows/world/testing`.
 */

export { ensureError, StepwiseError } from "../errors/base.ts";
export { PayloadTooLargeError } from "../errors/runtime.ts";
export {
  ConflictError,
  HookNotFoundError,
  HookTokenConflictError,
  ImportConflictError,
  LeaseLostError,
  NotFoundError,
  RunFinishedError,
  RunIdConflictError,
  RunNotFoundError,
  SequenceConflictError,
  WorldBusyError,
  WorldCorruptError,
  WorldStorageError,
  type WorldStorageReason,
  WorldUnavailableError,
} from "../errors/world.ts";
export { createMemoryWorld, type MemoryWorldOptions } from "../worlds/memory/index.ts";
export {
  EVENT_TYPES,
  type EventDataMap,
  type EventRecord,
  type EventType,
  isEventOfType,
  type NewEvent,
  TERMINAL_EVENT_TYPES,
  UPGRADED_SPEC_VERSION,
} from "./events.ts";
export { pickUpRun } from "./pick-up.ts";
export {
  type AcquireResult,
  type AppendedRun,
  type AppendRequest,
  type AppendResult,
  type AuditActor,
  type AuditEntry,
  type AuditOutcome,
  type BundleRecord,
  type ClaimOptions,
  CONTROL_REQUEST_KINDS,
  type CreatedRun,
  type CreateRunInput,
  type HookRecord,
  type HookStatus,
  type ImportedRun,
  type ImportRunInput,
  type InboxItem,
  type Lease,
  type ListAuditFilter,
  type ListRunsFilter,
  type NewAuditEntry,
  type NewInboxItem,
  type NewMessage,
  type Page,
  type PayloadRewrite,
  type PayloadRewriteResult,
  type PayloadSlot,
  type PickUpResult,
  type QueueFilter,
  type QueueMessage,
  RUN_STATUSES,
  type RunBudget,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type StepStatus,
  type StreamChunk,
  type StreamInfo,
  TERMINAL_RUN_STATUSES,
  type WaitKind,
  type WaitRecord,
  type WaitStatus,
  type World,
  type WorldNotification,
} from "./types.ts";
