/**
 * Drives one run while this worker holds its lease: feeds step outcomes, due sleeps and retries,
 * hook payloads, events, event waits' timeouts and cancellation into the run's machine, commits
 * each batch of events with one fenced append, executes the steps the workflow asks for (inline,
 * bounded), and, when nothing is left to do soon, releases the run in the same append that
 * schedules its next wake-up. Each step attempt gets an `AbortSignal` that the driver aborts when
 * the attempt's result is no longer wanted: the run is cancelled or ends, the lease is lost, or the
 * worker stops.
 */
import { StepAbortedError, type StepAbortReason } from "../errors/step.ts";
import { ConflictError, HookTokenConflictError, LeaseLostError } from "../errors/world.ts";
import { encodeValue } from "../serde/codec.ts";
import { PayloadDecryptionError } from "../serde/errors.ts";
import { places } from "../serde/places.ts";
import type { NewEvent, SealedLogs } from "../world/events.ts";
import type { AppendRequest, InboxItem, NewMessage, RunStatus, World } from "../world/types.ts";
import { type Clock, wallClock } from "./clock.ts";
import { encodeError } from "./error-text.ts";
import { executeStep, type StepOutcome } from "./executor.ts";
import { letGoOfRun } from "./let-go.ts";
import type { RunMachine, StepTask } from "./machine.ts";
import { getStep } from "./registry.ts";
import { INTERRUPTION_ALLOWANCE, maxAttempts } from "./retry.ts";
import { runTraceOf } from "./run-trace.ts";
import type { Semaphore } from "./semaphore.ts";
import type { StepEnvironment } from "./step-context.ts";

/**
 * finished: the run ended; suspended: it waits (sleep, hook, retry) and was released; lost:
 * another worker took it; stopped: handed back on request; deferred: handed back because this
 * worker cannot read something the run needs (`RunDriver.deferral` says what); paused: it was
 * paused (or found paused) and released, with nothing to wake it until it is resumed.
 */
export type DriveOutcome = "finished" | "suspended" | "lost" | "stopped" | "deferred" | "paused";

/**
 * Where the run stands on pausing. none: not paused; pausing: a pause is being carried out (the
 * log says `run_pausing`, or this driver read the request and has not recorded it yet); paused:
 * the log says `run_paused`.
 */
type PauseState = "none" | "pausing" | "paused";

/**
 * The events the driver itself records, about pausing and about a step it lacks the code of (the
 * machine's outbox never holds them).
 */
const CONTROL_TYPES: ReadonlySet<string> = new Set([
  "run_pausing",
  "run_paused",
  "run_resumed",
  "step_unavailable",
]);

export interface DriverHost {
  world: World;
  owner: string;
  /** Worker-wide bound on steps executing at once. */
  stepSlots: Semaphore;
  /** Bound on steps executing at once within this run. */
  perRunConcurrency: number;
  /** A run whose next wake-up is at most this far away keeps its lease and waits in memory. */
  holdMs: number;
  warn(message: string): void;
  /** What steps get to use (their streams). */
  stepEnv: StepEnvironment;
  /** The time due work is measured on, and waited for with (default: the wall clock). */
  clock?: Clock;
  /**
   * A step not in this process's code hands the run back for a worker that has it (default); with
   * false it is executed, and fails as not registered.
   */
  waitForMissingSteps?: boolean;
}

interface StepResult {
  step: StepTask;
  attempt: number;
  outcome: StepOutcome;
  /** Why the attempt's signal was aborted before it ended, if it was. */
  abortedBy?: StepAbortReason;
}

/** An attempt executing now, and the controller behind its signal. */
interface InFlight {
  step: StepTask;
  attempt: number;
  controller: AbortController;
}

/**
 * Aborts after which an attempt that fails has not failed: it was told to stop, and is left
 * without an outcome, to run again as an interrupted attempt where the run goes on. (A timeout is
 * a failure; cancellation, the run's end and a lost lease leave no outcome to record anyway.)
 */
const NOT_A_FAILURE: ReadonlySet<StepAbortReason> = new Set<StepAbortReason>(["shutdown", "paused"]);

/** Aborts after which nothing the attempt returns can be recorded: nobody waits for it any more. */
const DISCARDED: ReadonlySet<StepAbortReason> = new Set<StepAbortReason>([
  "cancelled",
  "run-ended",
  "lease-lost",
]);

/** The outcome of an attempt that stopped, or never began, because its signal aborted. */
function abortedOutcome(signal: AbortSignal): StepOutcome {
  return { ok: false, error: encodeError(signal.reason), decision: { retry: false, fatal: false } };
}

/** Settles once `signal` aborts for a reason that discards the attempt's result (else never). */
function discarded(signal: AbortSignal): Promise<StepOutcome> {
  return new Promise((resolve) => {
    const onAbort = () => {
      if (StepAbortedError.is(signal.reason) && DISCARDED.has(signal.reason.reason))
        resolve(abortedOutcome(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** `events` with `logs` on the first one's metadata (the events themselves are left as they are). */
function withWorkflowLogs(events: NewEvent[], logs: SealedLogs): NewEvent[] {
  const [first, ...rest] = events;
  if (first === undefined) return events;
  return [{ ...first, data: { ...first.data, workflowLogs: logs } } as NewEvent, ...rest];
}

export class RunDriver {
  readonly machine: RunMachine;
  /** Queue messages this driver answers for; acknowledged when the run is released. */
  anchors: string[];
  #host: DriverHost;
  readonly #clock: Clock;
  #results: StepResult[] = [];
  #running = 0;
  readonly #inFlight = new Set<InFlight>();
  #inboxDirty = true;
  /** The inbox as the worker read it before this driver existed (`primeInbox`), until first used. */
  #primedInbox: InboxItem[] | undefined;
  /** `machine.eventWaitsMade` when the inbox was last read: a new event wait may take an event in it. */
  #eventWaitsSeen = -1;
  #consumed: string[] = [];
  #cancelRequested = false;
  /** Why the run is cancelled: "cancelled", or "restart" when a restart stops it. */
  #cancelReason = "cancelled";
  #stopRequested = false;
  #pause: PauseState = "none";
  /** Control events (pausing, paused, resumed) to append after the machine's events. */
  #control: NewEvent[] = [];
  #lost = false;
  #signal: (() => void) | undefined;
  /** Steps this driver saw complete (for progress reports). */
  stepsCompleted = 0;
  /** Why the run was handed back undone (outcome "deferred"): a payload this worker cannot read, */
  deferral: PayloadDecryptionError | undefined;
  /** or a step the run calls that is not in this worker's code (`step_unavailable`). */
  missingStep: { stepId: string; stepName: string } | undefined;
  /** The event that ended the run, once it is recorded (outcome "finished"), for progress reports. */
  ended: NewEvent | undefined;

  /** `status`: the run's status when this worker took it (a `pausing` or `paused` run stays so). */
  constructor(machine: RunMachine, host: DriverHost, anchors: string[], status?: RunStatus) {
    this.machine = machine;
    this.#host = host;
    this.#clock = host.clock ?? wallClock;
    this.anchors = anchors;
    if (status === "pausing" || status === "paused") this.#pause = status;
  }

  get runId(): string {
    return this.machine.run.runId;
  }

  /** Steps of this run executing right now. */
  get runningSteps(): number {
    return this.#running;
  }

  /**
   * The run's inbox as read while the run was being replayed (the worker reads it alongside the
   * log): the first look at the inbox takes it instead of reading again. The worker gives it only
   * when nothing was said of the inbox since it read it (no hint, no new message).
   */
  primeInbox(items: InboxItem[]): void {
    this.#primedInbox = items;
  }

  /** Something may be waiting in the run's inbox. */
  notifyInbox(): void {
    this.#primedInbox = undefined;
    this.#inboxDirty = true;
    this.#wake();
  }

  /** Finish the steps in flight, commit, and hand the run back to the queue. */
  requestStop(): void {
    this.#stopRequested = true;
    this.#wake();
  }

  /**
   * Tells the steps in flight to stop: their signals abort with a `StepAbortedError` for `reason`
   * (the worker calls it with `shutdown` when its stop grace runs out). A step that stops after a
   * `shutdown` abort by failing has not failed: no outcome is recorded, and it runs again, as an
   * interrupted attempt, where the run goes on; one that completes is recorded.
   */
  abortSteps(reason: Exclude<StepAbortReason, "timeout">): void {
    this.#abortInFlight(reason);
  }

  /** The lease was lost: abort the steps in flight and stop at once, writing nothing more. */
  abandon(): void {
    this.#lost = true;
    this.#abortInFlight("lease-lost");
    this.#wake();
  }

  /** Aborts the signal of every attempt in flight with a `StepAbortedError` for `reason`. */
  #abortInFlight(reason: Exclude<StepAbortReason, "timeout">): void {
    for (const { step, attempt, controller } of this.#inFlight) {
      if (controller.signal.aborted) continue;
      controller.abort(new StepAbortedError(reason, { runId: this.runId, stepName: step.name, attempt }));
    }
  }

  /** The run ends as cancelled (not completed or failed) once it finishes. */
  get #cancelling(): boolean {
    const { machine } = this;
    return this.#cancelRequested && machine.settlement === undefined && machine.fatal === undefined;
  }

  #wake(): void {
    const signal = this.#signal;
    this.#signal = undefined;
    signal?.();
  }

  async drive(): Promise<DriveOutcome> {
    try {
      return await this.#loop();
    } catch (error) {
      this.#lost = true;
      // Another worker moved the run on (took the lease, appended, or ended it): it is theirs now.
      if (ConflictError.is(error) || LeaseLostError.is(error)) return "lost";
      throw error;
    } finally {
      // Whatever still runs here has no driver any more (a run that ended aborted its steps already).
      this.#abortInFlight("lease-lost");
    }
  }

  async #loop(): Promise<DriveOutcome> {
    const { machine } = this;
    for (;;) {
      if (this.#lost) return "lost";
      await machine.deliverPending();
      await this.#applyResults();
      // Paused (or pausing): sleeps and retries that come due wait for the resume.
      if (this.#pause === "none") await this.#applyDue();
      this.#noteNewEventWaits();
      if (this.#inboxDirty && !machine.finished) await this.#readInbox();
      // After the inbox: an event sent before a wait's timeout is delivered, not the timeout.
      if (this.#pause === "none") await this.#applyEventTimeouts();
      if (this.#lost) return "lost";

      if (machine.finished || this.#cancelRequested) {
        // Steps still running are told at once; whatever they return is discarded.
        this.#abortInFlight(this.#cancelling ? "cancelled" : "run-ended");
        await this.#finish();
        return "finished";
      }
      // Pausing, once no step runs and every outcome is applied: recorded paused and released,
      // with no wake-up (a resume enqueues one). Steps called but not executed are made afresh then.
      if (this.#pause !== "none" && this.#running === 0 && this.#results.length === 0) {
        machine.dropUnstartedCalls();
        const recorded = () => this.#control.some((event) => event.type === "run_paused");
        if (this.#pause === "pausing" && !recorded())
          this.#control.push({ type: "run_paused", data: {}, createdAt: machine.eventTime() });
        const released = await this.#commit({ release: true, pause: true });
        if (recorded()) {
          // A hook conflict put the events back. This machine dropped calls it never recorded, so
          // it must not go on: leave the run (still `pausing`) to be replayed and paused afresh.
          this.#lost = true;
          return "lost";
        }
        this.#pause = "paused";
        // Not let go: someone asked for the run meanwhile (a resume, a cancel, a message). This
        // machine dropped its unstarted calls and cannot go on: let go, and wake the run for them.
        if (!released) await letGoOfRun(this.#host.world, this.runId, this.#host.owner, true);
        return "paused";
      }
      // Stopping, once no step runs and every outcome that came in is applied (a step that ends
      // while the loop is between its steps is recorded, not lost to the hand-back).
      if (this.#stopRequested && this.#running === 0 && this.#results.length === 0) {
        // Steps called but not executed are left for the next worker to call and run afresh.
        machine.dropUnstartedCalls();
        await this.#commit({ release: true });
        return this.deferral === undefined && this.missingStep === undefined ? "stopped" : "deferred";
      }
      // A step the workflow called is not in this worker's code: hand the run back (above).
      if (!this.#stopRequested && this.#pause === "none" && this.#lacksStepCode()) continue;
      const holding = this.#stopRequested || this.#pause !== "none";
      if (machine.outboxSize > 0 || this.#consumed.length > 0 || this.#control.length > 0) {
        // Stopping or pausing: record outcomes as they come, but not the starts of steps that
        // will not run now.
        await this.#commit({ beforeNewSteps: holding });
        // A commit can deliver hook conflicts, which may end the workflow.
        if (machine.finished) continue;
      }
      if (!holding) this.#launchQueued();

      // A wait made since the inbox was read may be for an event already in it.
      this.#noteNewEventWaits();
      const busy = this.#running > 0 || this.#results.length > 0 || machine.pending.length > 0;
      // Pausing: nothing comes due until the resume; only step results and the inbox wake us.
      const next = this.#pause === "none" ? machine.nextDueAt() : undefined;
      if (!busy && !this.#inboxDirty && !this.#stopRequested) {
        if (next === undefined || next - this.#clock.now() > this.#host.holdMs) {
          const released = await this.#commit({ release: true, wakeAt: next });
          if (released) return "suspended";
          this.#inboxDirty = true;
          continue;
        }
      }
      if (this.#results.length > 0 || this.#inboxDirty || machine.pending.length > 0) continue;
      if (next !== undefined && next <= this.#clock.now()) continue;
      await this.#waitForSignal(next);
    }
  }

  #waitForSignal(dueAt: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let cancel: (() => void) | undefined;
      this.#signal = () => {
        cancel?.();
        resolve();
      };
      if (dueAt !== undefined) cancel = this.#clock.at(dueAt, () => this.#wake());
    });
  }

  async #applyResults(): Promise<void> {
    const { machine } = this;
    while (this.#results.length > 0 && !machine.finished && !this.#lost) {
      const result = this.#results.shift();
      if (result === undefined) break;
      const { step, outcome } = result;
      if (machine.steps.get(step.id) !== step || step.attempt !== result.attempt) continue;
      // Told to stop (the worker is stopping) and stopped: no outcome; it runs again elsewhere.
      if (!outcome.ok && result.abortedBy !== undefined && NOT_A_FAILURE.has(result.abortedBy)) continue;
      const now = this.#clock.now();
      if (outcome.ok) {
        this.stepsCompleted += 1;
        await machine.completeStep(step, outcome.value, now, outcome.logs);
      } else if (outcome.decision.retry)
        machine.retryStep(step, outcome.error, outcome.decision.retryAt, now, outcome.logs);
      else await machine.failStep(step, outcome.error, outcome.decision.fatal, now, outcome.logs);
      if (machine.hasUncommittedHook) await this.#commit();
    }
  }

  async #applyDue(): Promise<void> {
    const { machine } = this;
    const now = this.#clock.now();
    for (const step of [...machine.steps.values()]) {
      if (step.status === "retrying" && step.retryAt !== undefined && step.retryAt <= now) {
        machine.nextAttempt(step, now);
      } else if (step.status === "queued" && step.interrupted) {
        delete step.interrupted;
        if (step.attempt >= maxAttempts(getStep(step.name)) + INTERRUPTION_ALLOWANCE) {
          const error = new Error(
            `Step ${step.name} was interrupted ${step.attempt} times: the worker running it stopped or died before it finished (attempt ${step.attempt}). Check that the step does not crash its process (memory, native code).`,
          );
          error.name = "StepInterruptedError";
          await machine.failStep(step, encodeValue(error), false, now);
        } else {
          machine.nextAttempt(step, now);
        }
      }
    }
    for (const [waitId, resumeAt] of [...machine.waits]) {
      if (machine.finished || this.#lost) return;
      if (resumeAt <= now) {
        await machine.completeWait(waitId, now);
        if (machine.hasUncommittedHook) await this.#commit();
      }
    }
  }

  /** Marks the inbox to be read again when the workflow made event waits since it was last read. */
  #noteNewEventWaits(): void {
    if (this.machine.eventWaitsMade === this.#eventWaitsSeen) return;
    this.#eventWaitsSeen = this.machine.eventWaitsMade;
    this.#inboxDirty = true;
  }

  /** Times out the event waits whose timeout has passed, once the inbox holds nothing unread. */
  async #applyEventTimeouts(): Promise<void> {
    const { machine } = this;
    const now = this.#clock.now();
    for (const [waitId, wait] of [...machine.eventWaits]) {
      if (machine.finished || this.#lost || this.#inboxDirty) return;
      if (wait.timeoutAt > now || !machine.eventWaits.has(waitId)) continue;
      await machine.timeOutEventWait(waitId, now);
      if (machine.hasUncommittedHook) await this.#commit();
    }
  }

  async #readInbox(): Promise<void> {
    this.#inboxDirty = false;
    this.#eventWaitsSeen = this.machine.eventWaitsMade;
    const primed = this.#primedInbox;
    this.#primedInbox = undefined;
    const items = primed ?? (await this.#host.world.inbox.list(this.runId));
    for (const item of items) {
      if (this.machine.finished || this.#lost) return;
      if (this.#consumed.includes(item.itemId)) continue;
      if (item.kind === "cancel" || item.kind === "restart") {
        this.#consumed.push(item.itemId);
        // A restart request for an earlier generation: another restart landed first; dropped.
        if (
          item.kind === "restart" &&
          item.generation !== undefined &&
          item.generation !== this.machine.generation
        )
          continue;
        this.#cancelRequested = true;
        // A restart stops the run as a cancel does; the client then begins its next generation.
        if (item.kind === "restart") this.#cancelReason = "restart";
        return;
      }
      if (item.kind === "pause" || item.kind === "pause_abort" || item.kind === "resume") {
        this.#consumed.push(item.itemId);
        this.#takeControl(item.kind);
        continue;
      }
      // Paused or pausing: hook payloads and events stay in the inbox, in order, for the resume.
      if (this.#pause !== "none") continue;
      // Past a payload this worker cannot read, only a cancellation is still taken: the payloads
      // wait, in order, for a worker that can read them.
      if (this.deferral !== undefined) continue;
      if (item.kind === "event") {
        // An event no wait takes yet stays in the inbox, in its place, for a later wait.
        if (!(await this.#receiveEvent(item))) continue;
      } else if (item.hookId !== undefined && item.payload !== undefined) {
        try {
          // Recorded (hook_received) only once it is read: a payload this worker cannot decrypt
          // stays in the inbox, untouched, for a worker that can.
          await this.machine.receiveHook(item.hookId, item.payload, item.itemId, this.#clock.now());
        } catch (error) {
          if (!PayloadDecryptionError.is(error)) throw error;
          this.deferral = error as PayloadDecryptionError;
          // Handed back: steps in flight finish and are recorded (they are not aborted).
          this.#stopRequested = true;
          continue;
        }
      }
      this.#consumed.push(item.itemId);
      if (this.machine.hasUncommittedHook) await this.#commit();
    }
  }

  /**
   * Delivers an event from the inbox to the first event wait that takes it; false when none does
   * (or this worker cannot read it: then the run is handed back, `deferral`).
   */
  async #receiveEvent(item: InboxItem): Promise<boolean> {
    if (item.eventType === undefined || item.payload === undefined) return false;
    const waitId = this.machine.eventWaitFor(item.eventType, item.createdAt);
    if (waitId === undefined) return false;
    const event = {
      itemId: item.itemId,
      eventType: item.eventType,
      payload: item.payload,
      sentAt: item.createdAt,
    };
    try {
      // Recorded (event_received) only once it is read, as a hook payload is.
      await this.machine.receiveEvent(waitId, event, this.#clock.now());
      return true;
    } catch (error) {
      if (!PayloadDecryptionError.is(error)) throw error;
      this.deferral = error as PayloadDecryptionError;
      this.requestStop();
      return false;
    }
  }

  /**
   * A pause or resume request from the inbox. A pause records `run_pausing` (the steps in flight
   * finish first; with `pause_abort` their signals abort, and a step that stops then runs again
   * after the resume); the loop records `run_paused` once none runs. A resume lifts the pause
   * wherever it stands. A request that changes nothing (a pause of a paused run) is only taken.
   */
  #takeControl(kind: "pause" | "pause_abort" | "resume"): void {
    const at = this.machine.eventTime();
    if (kind === "resume") {
      if (this.#pause === "none") return;
      this.#pause = "none";
      // A pause requested and lifted before anything was recorded leaves no trace.
      const pending = this.#control.findIndex((event) => event.type === "run_pausing");
      if (pending !== -1) this.#control.splice(pending, 1);
      else this.#control.push({ type: "run_resumed", data: {}, createdAt: at });
      this.#inboxDirty = true;
      return;
    }
    if (kind === "pause_abort") this.#abortInFlight("paused");
    if (this.#pause !== "none") return;
    this.#pause = "pausing";
    const data = kind === "pause_abort" ? { abortSteps: true } : {};
    this.#control.push({ type: "run_pausing", data, createdAt: at });
  }

  /**
   * Before the steps the workflow called are recorded as started: when one of them is not in this
   * worker's code (a deploy removed or renamed it), none is started. The run records that it waits
   * for code (`step_unavailable`, unless its log already ends so), the steps in flight finish, and
   * the run is handed back (outcome "deferred") for a worker that has the step. True if so.
   */
  #lacksStepCode(): boolean {
    if (this.#host.waitForMissingSteps === false) return false;
    const env = this.#host.stepEnv;
    for (const step of this.machine.steps.values()) {
      if (step.status !== "queued" || step.interrupted) continue;
      if (getStep(step.name) !== undefined || env.bodyFor?.(step.name) !== undefined) continue;
      this.missingStep = { stepId: step.id, stepName: step.name };
      if (this.machine.unavailableStep !== step.id) {
        const data = { stepId: step.id, stepName: step.name };
        this.#control.push({ type: "step_unavailable", data, createdAt: this.machine.eventTime() });
      }
      this.#stopRequested = true;
      return true;
    }
    return false;
  }

  #launchQueued(): void {
    for (const step of this.machine.steps.values()) {
      if (this.#running >= this.#host.perRunConcurrency) return;
      if (step.status !== "queued" || step.interrupted) continue;
      step.status = "running";
      this.#running += 1;
      const attempt = step.attempt;
      const flight: InFlight = { step, attempt, controller: new AbortController() };
      this.#inFlight.add(flight);
      const { signal } = flight.controller;
      void (async () => {
        await this.#host.stepSlots.acquire();
        let outcome: StepOutcome;
        try {
          const execute = () =>
            Promise.race([
              executeStep(this.machine.run, this.machine.scope, step, this.#host.stepEnv, flight.controller),
              // Once nothing it returns can be recorded, the attempt gives its slot back at
              // once; a body that ignores its signal runs on in the background, uncounted.
              discarded(signal),
            ]);
          // Traced: the attempt's span is the step body's active context (run-trace.ts).
          const trace = runTraceOf(this.machine);
          // Aborted while it waited for a slot: not begun at all.
          outcome = signal.aborted
            ? abortedOutcome(signal)
            : await (trace === undefined ? execute() : trace.attempt(step, signal, execute));
        } finally {
          this.#host.stepSlots.release();
          this.#inFlight.delete(flight);
        }
        this.#running -= 1;
        const result: StepResult = { step, attempt, outcome };
        if (StepAbortedError.is(signal.reason)) result.abortedBy = signal.reason.reason;
        this.#results.push(result);
        this.#wake();
      })();
    }
  }

  async #finish(): Promise<void> {
    const { machine } = this;
    const at = machine.eventTime();
    let terminal: NewEvent;
    const payloads = machine.payloads;
    if (this.#cancelling) {
      terminal = { type: "run_cancelled", data: { reason: this.#cancelReason }, createdAt: at };
    } else if (machine.fatal !== undefined) {
      terminal = {
        type: "run_failed",
        data: { reason: "non_determinism" },
        payload: payloads.encode(machine.scope, places.runError, encodeValue(machine.fatal)),
        createdAt: at,
      };
    } else if (machine.settlement?.ok) {
      try {
        const output = machine.store(
          places.runOutput,
          machine.settlement.value,
          `The return value of workflow ${machine.run.workflowName}`,
        );
        terminal = { type: "run_completed", data: {}, payload: output, createdAt: at };
      } catch (error) {
        terminal = {
          type: "run_failed",
          data: {},
          payload: payloads.encode(machine.scope, places.runError, encodeValue(error)),
          createdAt: at,
        };
      }
    } else {
      const error =
        machine.settlement?.ok === false
          ? machine.settlement.error
          : encodeValue(new Error("unknown failure"));
      terminal = {
        type: "run_failed",
        data: {},
        payload: payloads.encode(machine.scope, places.runError, error),
        createdAt: at,
      };
    }
    await this.#commit({ release: true, terminal });
    this.ended = terminal;
  }

  /** Puts the events of a failed append back: the machine's in its outbox, control events here. */
  #restore(events: NewEvent[]): void {
    this.#control = [...events.filter((event) => CONTROL_TYPES.has(event.type)), ...this.#control];
    this.machine.restoreOutbox(events.filter((event) => !CONTROL_TYPES.has(event.type)));
  }

  /**
   * Appends the machine's outbox (and `terminal`), fenced on the run's sequence number and our
   * lease. With `release`, also acknowledges the anchors, schedules the wake-up and releases the
   * lease; returns whether the lease was released. A hook token clash turns that hook's creation
   * into a conflict and retries.
   */
  async #commit(
    options: {
      release?: boolean;
      wakeAt?: number | undefined;
      terminal?: NewEvent;
      /** Only the events before the first uncommitted step start (the run is being handed back). */
      beforeNewSteps?: boolean;
      /** The run is released paused: its anchors are acknowledged and no wake-up is scheduled. */
      pause?: boolean;
    } = {},
  ): Promise<boolean> {
    const { machine } = this;
    for (;;) {
      const events = options.beforeNewSteps ? machine.takeOutboxBeforeNewSteps() : machine.takeOutbox();
      const control = this.#control;
      this.#control = [];
      events.push(...control);
      if (options.terminal) events.push(options.terminal);
      // An inbox item is taken in the append that records it, never before.
      const unrecorded = machine.inboxItemsInOutbox();
      const consumed = this.#consumed.filter((id) => !unrecorded.has(id));
      if (events.length === 0 && consumed.length === 0 && !options.release) return false;
      // What the workflow body printed travels on the append's first event (docs/architecture.md).
      const output = events.length > 0 ? machine.takeWorkflowLogs() : undefined;
      const request: AppendRequest = {
        runId: this.runId,
        expectedSeq: machine.seq,
        owner: this.#host.owner,
        events: output === undefined ? events : withWorkflowLogs(events, output.sealed),
      };
      if (consumed.length > 0) request.consumeInbox = consumed;
      if (options.release) {
        request.releaseLease = true;
        if (!this.#stopRequested || options.pause) request.ack = this.anchors;
        if (options.wakeAt !== undefined && !options.terminal) {
          const wake: NewMessage = {
            runId: this.runId,
            kind: "wake",
            availableAt: options.wakeAt,
            dedupeKey: `wake:${this.runId}:${options.wakeAt}`,
          };
          request.enqueue = [wake];
        }
      }
      try {
        const result = await this.#host.world.events.append(request);
        machine.committed(result.seq);
        runTraceOf(machine)?.committed(result.events);
        machine.bytes = result.run.payloadBytes + machine.outboxBytes;
        this.#consumed = this.#consumed.filter((id) => !consumed.includes(id));
        if (options.release && (!this.#stopRequested || options.pause)) this.anchors = [];
        return result.leaseReleased ?? false;
      } catch (error) {
        if (output !== undefined) machine.returnWorkflowLogs(output.logs);
        if (HookTokenConflictError.is(error) && machine.convertHookConflict(events, error)) {
          if (options.terminal) events.pop();
          this.#restore(events);
          // Before a release, let the loop deliver the conflict and decide again.
          if (options.release && !options.terminal) return false;
          if (!options.terminal) await machine.deliverPending();
          continue;
        }
        this.#restore(options.terminal ? events.slice(0, -1) : events);
        this.#lost = true;
        throw error;
      }
    }
  }
}
