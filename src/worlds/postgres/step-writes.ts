/**
 * Folds an append's step effects (`step.start`, `step.update` from the shared `projectEvent`) into
 * at most one write per step, so the database applies all of an append's step changes with two
 * set-based statements instead of one statement per effect. Applying the folded writes gives the
 * same rows as applying the effects one by one: every patch overwrites the columns it names, so a
 * later value wins; a step's effects before its first `step.start` in the append (which update an
 * existing row, or nothing) stay a separate update, applied first; from the first start on, one
 * upsert inserts the step (created, first seq and input from that start) or patches the row.
 */
import type { EventRecord } from "../../world/events.ts";
import type { ProjectionEffect } from "../../world/projection.ts";

/** Columns a patch sets (absent: unchanged). `out`/`err` are the seqs of the events with the payloads. */
export interface StepPatchWire {
  status?: string;
  attempt?: number;
  out?: number;
  err?: number;
  started?: number;
  completed?: number;
  retry?: number;
  /** updated_at: the time of the last event that touched the step. */
  at: number;
}

export interface StepUpdateWire extends StepPatchWire {
  id: string;
}

export interface StepUpsertWire extends StepPatchWire {
  id: string;
  name: string;
  /** The seq of the event that started the step (its order in `steps.list`). */
  first: number;
  /** The seq of the event carrying the step's input, if it had one. */
  input?: number;
  created: number;
}

type StepEffect = Extract<ProjectionEffect, { kind: "step.start" | "step.update" }>;

interface Folded {
  before?: StepUpdateWire;
  upsert?: StepUpsertWire;
}

const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export function createStepWrites() {
  const steps = new Map<string, Folded>();

  return {
    add(effect: StepEffect, event: EventRecord): void {
      const at = event.createdAt;
      let folded = steps.get(effect.kind === "step.start" ? effect.step.stepId : effect.stepId);
      if (folded === undefined) {
        folded = {};
        steps.set(effect.kind === "step.start" ? effect.step.stepId : effect.stepId, folded);
      }
      if (effect.kind === "step.start") {
        const { step, set } = effect;
        const patch = defined({ status: set.status, attempt: set.attempt, started: set.startedAt, at });
        if (folded.upsert === undefined) {
          folded.upsert = {
            id: step.stepId,
            name: step.stepName,
            first: event.seq,
            ...(event.payload === undefined ? {} : { input: event.seq }),
            created: at,
            ...patch,
          };
        } else Object.assign(folded.upsert, patch);
        return;
      }
      const { set } = effect;
      const patch = defined({
        status: set.status,
        attempt: set.attempt,
        out: set.output === undefined ? undefined : event.seq,
        err: set.error === undefined ? undefined : event.seq,
        started: set.startedAt,
        completed: set.completedAt,
        retry: set.retryAt,
        at,
      });
      if (folded.upsert !== undefined) Object.assign(folded.upsert, patch);
      else folded.before = { ...(folded.before ?? { id: effect.stepId }), ...patch };
    },

    /** The folded writes: updates (applied first), then upserts. */
    wire(): { updates: StepUpdateWire[]; upserts: StepUpsertWire[] } {
      const updates: StepUpdateWire[] = [];
      const upserts: StepUpsertWire[] = [];
      for (const folded of steps.values()) {
        if (folded.before) updates.push(folded.before);
        if (folded.upsert) upserts.push(folded.upsert);
      }
      return { updates, upserts };
    },
  };
}
