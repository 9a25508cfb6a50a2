/**
 * One run's workflow, alive in a sandbox: the bridge between the workflow's calls and the event
 * log. It replays a log (checking every call against it and failing loudly on divergence), and in
 * live mode turns new calls into events and outcomes into deliveries. It does no I/O: the driver
 * (`driver.ts`) commits its outbox, executes its steps and feeds it outcomes.
 */

import { inspect } from "node:util";
import type { StepwiseError } from "../errors/base.ts";
import { NonDeterminismError } from "../errors/runtime.ts";
import type { HookTokenConflictError } from "../errors/world.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import { type CapturedLogs, sealLogs } from "../serde/logs.ts";
import type { PayloadCodec, PayloadScope } from "../serde/payload.ts";
import { eventPlace, places } from "../serde/places.ts";
import { derivedId, derivedToken, newId } from "../util/ids.ts";
import type {
  Command,
  CommandReceipt,
  Delivery,
  HostBridge,
  RunInfo,
  Settlement,
} from "../workflow/protocol.ts";
import type { EventRecord, NewEvent, SealedLogs } from "../world/events.ts";
import { pinnedHash } from "./bundles.ts";
import { conflictText, encodeError, mapErrorText } from "./error-text.ts";
import { checkPayload, checkRunTotal, type Limits } from "./limits.ts";
import { formatLogArgs, LogBuffer } from "./log-buffer.ts";
import type { WorkflowBundle } from "./registry.ts";
import {
  callMatches,
  deliveryTarget,
  describeCall,
  describeCommand,
  describeId,
  type PlannedCall,
  planReplay,
} from "./replay-plan.ts";
import { createSandbox, type Sandbox } from "./sandbox.ts";
import { mapSandboxErrorStacks } from "./sandbox-stack.ts";

/** Events that record a call the workflow made (its place in the call order). */
const CALL_TYPES: ReadonlySet<NewEvent["type"]> = new Set([
  "step_started",
  "wait_created",
  "event_wait_created",
  "hook_created",
]);
/** Events that record an outcome delivered to the workflow. */
const OUTCOME_TYPES: ReadonlySet<NewEvent["type"]> = new Set([
  "step_completed",
  "step_failed",
  "wait_completed",
  "event_received",
  "event_wait_timed_out",
  "hook_received",
  "hook_conflict",
]);

/** Where a replay left the log: the event (`seq`, when known) and both sides, in words. */
export interface Divergence {
  seq: number | undefined;
  /** What the log recorded there, e.g. `step "charge"`. */
  logHas: string;
  /** What the workflow code makes instead. */
  codeMakes: string;
}

export interface StepTask {
  id: string;
  name: string;
  /** Codec text of the arguments. */
  args: string;
  attempt: number;
  /** queued: waits to be executed; running: executing; retrying: waits for `retryAt`. */
  status: "queued" | "running" | "retrying";
  retryAt?: number;
  /** The attempt before this one was interrupted (its worker died), not failed. */
  interrupted?: boolean;
}

/** A `waitForEvent` that has not received its event nor timed out. */
export interface EventWaitState {
  eventType: string;
  timeoutAt: number;
}

/** An event from the run's inbox, as `receiveEvent` takes it. */
export interface IncomingEvent {
  /** Its inbox item, which is the event's id. */
  itemId: string;
  eventType: string;
  payload: Uint8Array;
  /** When it was stored (`sendEvent`). */
  sentAt: number;
}

interface HookState {
  token: string;
  disposed: boolean;
  /** hook_created is in the outbox, not yet committed. */
  uncommitted: boolean;
}

export interface MachineOptions {
  run: RunInfo;
  workflowId: string;
  bundle: WorkflowBundle;
  /** Codec text of the workflow arguments. */
  input: string;
  payloads: PayloadCodec;
  /** The run as its payloads see it (id, whether encrypted, spec version). */
  scope: PayloadScope;
  /** Bytes stored for the run so far (`RunRecord.payloadBytes`), for the per-run limit. */
  payloadBytes: number;
  limits: Limits;
  /** Where the HTTP handler is reachable, for webhook URLs (default STEPWISE_PUBLIC_URL). */
  publicUrl?: string;
  /**
   * Where workflow console output is printed (default: the console). Output the log already
   * recorded (a replay) is neither printed nor recorded again.
   */
  log?: (level: string, args: unknown[]) => void;
  /** The clock events are stamped with (default `Date.now`; a test environment's virtual one). */
  now?: () => number;
}

export class RunMachine {
  readonly run: RunInfo;
  /** Sequence number of the last committed event. */
  seq = 1;
  /** The run's generation (1 until it is first restarted): new calls derive their ids with it. */
  generation = 1;
  readonly steps = new Map<string, StepTask>();
  readonly waits = new Map<string, number>();
  /** Event waits still waiting, in call order (the first matching one takes an event). */
  readonly eventWaits = new Map<string, EventWaitState>();
  /** How many event waits the workflow has made so far: the driver reads the inbox again when it grows. */
  eventWaitsMade = 0;
  readonly hooks = new Map<string, HookState>();
  settlement: Settlement | undefined;
  /** Set when the runtime must fail the run (non-determinism). */
  fatal: StepwiseError | undefined;
  /**
   * Outcomes decided at call or commit time (a hook token clash, a step whose arguments are too
   * large), to deliver before anything else.
   */
  readonly pending: { delivery: Delivery; at: number }[] = [];
  /**
   * Bytes stored for the run (`RunRecord.payloadBytes` as of the last commit, plus what the outbox
   * and this worker's stream writes added since), for the per-run limit.
   */
  bytes: number;

  readonly #options: MachineOptions;
  readonly #sandbox: Sandbox;
  readonly payloads: PayloadCodec;
  readonly scope: PayloadScope;
  #outbox: NewEvent[] = [];
  #index = 0;
  #expected: PlannedCall[] | undefined;
  #deliveriesLeft = 0;
  /** Of `#deliveriesLeft`, the outcomes kept from an earlier generation (they come first). */
  #keptDeliveriesLeft = 0;
  /**
   * The time of the run's latest event, never going back: the wall clock when events are written,
   * raised to the log's last event on replay. Events are stamped with it (so a log's times are the
   * times things happened, in order), and a delivery gives the workflow the time it is recorded at.
   */
  #clock: number;
  #started = false;
  #replaying = false;
  /**
   * The workflow's output while replaying was recorded already: true when the replayed generation
   * has its `run_started`, since output travels in the append of the events it followed (the
   * start, or the outcome it reacted to). Before that append, a replay runs the code for the first
   * time as far as the log knows, and its output is new.
   */
  #outputRecorded = false;
  /** What the workflow body printed since the last append (`takeWorkflowLogs`). */
  #output: LogBuffer | undefined;
  /** The log event the replay delivers next (where a call it does not have would go). */
  #nextDeliverySeq: number | undefined;
  /** Where and how a replay diverged from the log, once it has (beside `fatal`). */
  divergence: Divergence | undefined;
  /**
   * The step the log's last event says the run waits for a worker to have the code of
   * (`step_unavailable`): a driver lacking it too does not record that again.
   */
  unavailableStep: string | undefined;

  constructor(options: MachineOptions) {
    this.#options = options;
    this.run = options.run;
    this.payloads = options.payloads;
    this.scope = options.scope;
    this.bytes = options.payloadBytes;
    this.#clock = options.run.createdAt;
    this.#sandbox = createSandbox(options.bundle, this.#bridge());
  }

  /** True while the workflow is being replayed from the log. */
  get replaying(): boolean {
    return this.#replaying;
  }

  get finished(): boolean {
    return this.settlement !== undefined || this.fatal !== undefined;
  }

  #bridge(): HostBridge {
    return {
      run: this.run,
      command: (command) => this.#command(command),
      disposeHook: (hookId) => this.#disposeHook(hookId),
      settle: (settlement) => {
        if (this.fatal === undefined && this.settlement === undefined) {
          this.settlement = settlement.ok ? settlement : { ok: false, error: mapErrorText(settlement.error) };
        }
      },
      log: (level, args) => {
        if (this.#replaying && this.#outputRecorded) return;
        try {
          this.#output ??= new LogBuffer();
          this.#output.add(level, formatLogArgs(args), this.#options.now?.() ?? Date.now());
        } catch {
          // A line that cannot be recorded is still printed.
        }
        const sink =
          this.#options.log ??
          ((lvl: string, a: unknown[]) =>
            (console as unknown as Record<string, (...x: unknown[]) => void>)[lvl]?.(...a));
        sink(level, args);
      },
    };
  }

  /**
   * Replays the log from the start (a fresh machine), leaving the machine live at its end. A run
   * whose log has no `run_started` yet is started here (`now` stamps that event).
   */
  async replay(events: readonly EventRecord[], now: number): Promise<void> {
    const plan = planReplay(events);
    // Deliveries below give the workflow their recorded times; this clock only stamps new events,
    // which must not go before the log's last one (another process's clock may be ahead).
    this.#clock = Math.max(this.#clock, plan.lastEventAt);
    const pinned = pinnedHash(events);
    // Each generation (a restart begins one) has its own run_started.
    if (!plan.started) {
      // Pinned from here on to the code it runs with, if it was started without it.
      const data = pinned === undefined ? { bundleHash: this.#options.bundle.hash } : {};
      this.#push({ type: "run_started", data, createdAt: this.#advance(now) });
    }
    // The version the workflow sees (`getWorkflowMetadata().version`): the code it replays with,
    // once the run is pinned (a worker replays with the pinned bundle; a check with the code it
    // tests). A run older than pinning has none.
    if (pinned !== undefined || !plan.started) this.run.version = this.#options.bundle.hash;
    else delete this.run.version;
    this.seq = events.length === 0 ? 1 : (events[events.length - 1]?.seq ?? 1);
    const last = events[events.length - 1];
    this.unavailableStep = last?.type === "step_unavailable" ? last.data.stepId : undefined;
    this.generation = plan.generation;
    this.#expected = plan.calls;
    this.#deliveriesLeft = plan.deliveries.length;
    this.#keptDeliveriesLeft = plan.keptDeliveries;
    this.#outputRecorded = plan.started;
    this.#replaying = true;
    try {
      await this.#startWorkflow();
      for (const event of plan.deliveries) {
        if (this.finished) break;
        this.#deliveriesLeft -= 1;
        if (this.#keptDeliveriesLeft > 0) this.#keptDeliveriesLeft -= 1;
        const target = deliveryTarget(event);
        this.#nextDeliverySeq = event.seq;
        if (!this.#issued(target)) {
          this.#diverge(
            `the log has an outcome for ${describeId(target)} (event ${event.seq}), but the workflow never made that call before it`,
            { seq: event.seq, logHas: `an outcome for ${describeId(target)}`, codeMakes: "no such call" },
          );
          break;
        }
        await this.#deliver(this.#deliveryFor(event), event.createdAt);
      }
      if (!this.finished && this.#index < plan.calls.length) {
        const missing = plan.calls[this.#index];
        if (missing !== undefined) {
          this.#diverge(
            `the log records ${describeCall(missing)} as call #${this.#index + 1}, but the workflow did not make it`,
            {
              seq: missing.seq,
              logHas: describeCall(missing),
              codeMakes: "no call (the workflow did not make it)",
            },
          );
        }
      }
    } finally {
      this.#replaying = false;
      this.#expected = undefined;
      this.#clock = Math.max(this.#clock, plan.lastEventAt);
    }
  }

  #issued(id: string): boolean {
    return (
      this.steps.has(id) ||
      this.waits.has(id) ||
      this.eventWaits.has(id) ||
      this.hooks.has(id) ||
      this.#resolved.has(id)
    );
  }

  /** Ids whose calls were made and already resolved in this sandbox. */
  readonly #resolved = new Set<string>();

  #deliveryFor(event: ReturnType<typeof planReplay>["deliveries"][number]): Delivery {
    const id = deliveryTarget(event);
    switch (event.type) {
      case "step_completed":
        this.#resolveStep(id);
        return { kind: "step_completed", id, value: this.#text(event.payload, eventPlace(event)) };
      case "step_failed":
        this.#resolveStep(id);
        return { kind: "step_failed", id, error: this.#text(event.payload, eventPlace(event)) };
      case "wait_completed":
        this.waits.delete(id);
        this.#resolved.add(id);
        return { kind: "wait_completed", id };
      case "event_received":
        this.#resolveEventWait(id);
        return {
          kind: "event_received",
          id,
          payload: this.#text(event.payload, eventPlace(event)),
          sentAt: event.data.sentAt,
        };
      case "event_wait_timed_out":
        this.#resolveEventWait(id);
        return { kind: "event_timed_out", id };
      case "hook_received":
        return { kind: "hook_received", id, payload: this.#text(event.payload, eventPlace(event)) };
      case "hook_conflict":
        return { kind: "hook_conflict", id, error: conflictText(event.data.token, event.data.heldByRunId) };
    }
  }

  #resolveEventWait(id: string): void {
    this.eventWaits.delete(id);
    this.#resolved.add(id);
  }

  #resolveStep(id: string): void {
    this.steps.delete(id);
    this.#resolved.add(id);
  }

  /**
   * When a replayed step call passes other arguments than the log recorded for it (compared as
   * encoded text, which is deterministic for equal values), how the two read; undefined when they
   * are the same or the log has none to compare with.
   */
  #otherArguments(
    call: PlannedCall,
    command: Command,
    id: string,
  ): { name: string; recorded: string; passed: string; detail: string } | undefined {
    if (call.kind !== "step" || command.kind !== "step" || call.args === undefined) return undefined;
    const recorded = this.payloads.decode(this.scope, places.stepArgs(id), call.args);
    if (recorded === command.args) return undefined;
    const before = readableArguments(recorded);
    const now = readableArguments(command.args);
    return {
      name: command.name,
      recorded: before,
      passed: now,
      detail: `the log has ${before}, the workflow now passes ${now}`,
    };
  }

  #text(payload: Uint8Array | undefined, place: string): string {
    return payload === undefined ? encodeValue(undefined) : this.payloads.decode(this.scope, place, payload);
  }

  async #startWorkflow(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      await this.#sandbox.start(this.#options.workflowId, this.#options.input);
    } catch (error) {
      // The workflow's module threw while loading: the run cannot start with this code.
      this.settlement ??= { ok: false, error: encodeError(mapSandboxErrorStacks(error)) };
    }
  }

  #advance(at: number): number {
    this.#clock = Math.max(this.#clock, at);
    return this.#clock;
  }

  /**
   * The time to stamp an event written now: the wall clock, or the run's latest event time if that
   * is later (a clock stepped back, or another process's ahead), so the log's times never go back.
   */
  eventTime(): number {
    return this.#advance(this.#options.now?.() ?? Date.now());
  }

  /**
   * Hands an outcome to the workflow at time `at`, then the outcomes its reaction decided at once
   * (a step call refused for its arguments), in the order and at the times the log records them.
   */
  async #deliver(delivery: Delivery, at: number): Promise<void> {
    await this.#sandbox.deliver(delivery, at);
    await this.deliverPending();
  }

  #push(event: NewEvent): void {
    this.#outbox.push(event);
  }

  #command(command: Command): CommandReceipt {
    const index = this.#index++;
    const { seed, createdAt } = this.run;
    const expected = this.#expected?.[index];
    // A call kept from an earlier generation keeps the id that generation derived.
    const generation = expected?.generation ?? this.generation;
    const prefix = command.kind === "step" ? "step" : command.kind === "hook" ? "hook" : "wait";
    const id = derivedId(prefix, seed, createdAt, index, generation);
    const token = command.kind === "hook" ? (command.token ?? derivedToken(seed, index)) : undefined;
    const receipt: CommandReceipt = token === undefined ? { id } : { id, token };
    if (command.kind === "hook" && command.webhook && token !== undefined)
      receipt.url = this.#webhookUrl(token);
    if (this.finished) return receipt;

    if (expected !== undefined) {
      if (!callMatches(expected, command, id, token)) {
        this.#diverge(
          `call #${index + 1} was ${describeCall(expected)} when the log was written, but the workflow now makes ${describeCommand(command)}`,
          { seq: expected.seq, logHas: describeCall(expected), codeMakes: describeCommand(command) },
        );
        return receipt;
      }
      const other = this.#otherArguments(expected, command, id);
      if (other !== undefined) {
        this.#diverge(
          `call #${index + 1} is step "${other.name}" with other arguments than the log has: ${other.detail}`,
          {
            seq: expected.seq,
            logHas: `step "${other.name}" with ${other.recorded}`,
            codeMakes: `step "${other.name}" with ${other.passed}`,
          },
        );
        return receipt;
      }
      this.#restore(expected, command);
      return receipt;
    }
    // Outcomes kept by a restart may still be ahead: a call made before them is new in this
    // generation (it ran beside the restarted call), not a divergence from the log.
    if (this.#replaying && this.#deliveriesLeft > this.#keptDeliveriesLeft) {
      this.#diverge(
        `the workflow makes ${describeCommand(command)} as call #${index + 1}, which the log does not have at that point`,
        {
          seq: this.#nextDeliverySeq,
          logHas: "an outcome of an earlier call next",
          codeMakes: describeCommand(command),
        },
      );
      return receipt;
    }
    // When the call happened, not the workflow's deterministic clock: the workflow saw the time of
    // its last delivery, which may be long before (a run picked up late, a replay after a crash).
    const at = this.eventTime();
    switch (command.kind) {
      case "step": {
        let payload: Uint8Array;
        try {
          payload = this.store(places.stepArgs(id), command.args, `The arguments of step ${command.name}`);
        } catch (error) {
          // Record the call, refuse it at once: the workflow's await rejects with the error.
          const text = encodeError(error);
          this.#push({
            type: "step_started",
            data: { stepId: id, stepName: command.name, attempt: 1 },
            createdAt: at,
          });
          this.#push({
            type: "step_failed",
            data: { stepId: id, attempt: 1, fatal: true },
            payload: this.#storeError(id, text),
            createdAt: at,
          });
          this.#resolved.add(id);
          this.pending.push({ delivery: { kind: "step_failed", id, error: text }, at });
          break;
        }
        this.steps.set(id, { id, name: command.name, args: command.args, attempt: 1, status: "queued" });
        this.#push({
          type: "step_started",
          data: { stepId: id, stepName: command.name, attempt: 1 },
          payload,
          createdAt: at,
        });
        break;
      }
      case "sleep":
        this.waits.set(id, command.resumeAt);
        this.#push({ type: "wait_created", data: { waitId: id, resumeAt: command.resumeAt }, createdAt: at });
        break;
      case "event": {
        const { eventType, timeoutAt } = command;
        this.eventWaits.set(id, { eventType, timeoutAt });
        this.eventWaitsMade += 1;
        this.#push({ type: "event_wait_created", data: { waitId: id, eventType, timeoutAt }, createdAt: at });
        break;
      }
      case "hook": {
        const tokenText = token ?? "";
        const clash = [...this.hooks.values()].some((hook) => hook.token === tokenText && !hook.disposed);
        this.hooks.set(id, { token: tokenText, disposed: clash, uncommitted: !clash });
        if (clash) {
          this.#push({
            type: "hook_conflict",
            data: { hookId: id, token: tokenText, heldByRunId: this.run.runId },
            createdAt: at,
          });
          this.pending.push({
            delivery: { kind: "hook_conflict", id, error: conflictText(tokenText, this.run.runId) },
            at,
          });
        } else {
          const data: Extract<NewEvent, { type: "hook_created" }>["data"] = {
            hookId: id,
            token: tokenText,
            kind: command.webhook ? "webhook" : "hook",
          };
          if (command.meta !== undefined) data.meta = this.#storedMeta(id, command.meta);
          this.#push({ type: "hook_created", data, createdAt: at });
        }
        break;
      }
    }
    return receipt;
  }

  /**
   * A hook's metadata as stored: a webhook's static response is data the workflow chose, so it is
   * stored as a payload (encrypted like the rest, bound to the hook), base64 in `sealed`.
   */
  #storedMeta(hookId: string, meta: Record<string, unknown>): Record<string, unknown> {
    if (meta.respond !== "static" || meta.response === undefined) return meta;
    const bytes = this.payloads.encode(
      this.scope,
      places.webhookResponse(hookId),
      encodeValue(meta.response),
    );
    return { respond: "static", sealed: Buffer.from(bytes).toString("base64") };
  }

  #webhookUrl(token: string): string {
    const base = (
      this.#options.publicUrl ??
      process.env.STEPWISE_PUBLIC_URL ??
      "http://localhost:3000/stepwise"
    ).replace(/\/+$/, "");
    return `${base}/webhooks/${encodeURIComponent(token)}`;
  }

  #restore(call: PlannedCall, command: Command): void {
    switch (call.kind) {
      case "step":
        if (call.status === "resolved") {
          this.steps.set(call.id, {
            id: call.id,
            name: call.name,
            args: "",
            attempt: call.attempt,
            status: "running",
          });
          return;
        }
        this.steps.set(call.id, {
          id: call.id,
          name: call.name,
          args: command.kind === "step" ? command.args : "[]",
          attempt: call.attempt,
          // An attempt with no outcome in the log was interrupted: it runs again.
          status: call.status === "retrying" ? "retrying" : "queued",
          ...(call.retryAt === undefined ? {} : { retryAt: call.retryAt }),
          ...(call.status === "running" ? { interrupted: true } : {}),
        });
        return;
      case "sleep":
        this.waits.set(call.id, call.resumeAt);
        return;
      case "event":
        // Its outcome, if the log has one, is delivered later and ends it.
        this.eventWaits.set(call.id, { eventType: call.eventType, timeoutAt: call.timeoutAt });
        this.eventWaitsMade += 1;
        return;
      case "hook":
        this.hooks.set(call.id, { token: call.token, disposed: call.disposed, uncommitted: false });
        return;
    }
  }

  #disposeHook(hookId: string): void {
    const hook = this.hooks.get(hookId);
    if (hook === undefined || hook.disposed) return;
    hook.disposed = true;
    if (this.#replaying) return;
    this.#push({ type: "hook_disposed", data: { hookId }, createdAt: this.eventTime() });
  }

  #diverge(detail: string, divergence: Divergence): void {
    if (this.fatal !== undefined) return;
    this.divergence = divergence;
    this.fatal = new NonDeterminismError(
      `Replay of run ${this.run.runId} (${this.run.workflowName}) diverged from its event log: ${detail}. Workflow code must make the same calls in the same order on every replay: keep non-deterministic work (I/O, randomness outside the sandbox's seeded Math.random, reading the environment) in steps, and do not change a workflow's calls while it has runs in progress.`,
    );
  }

  // ---- live mode: called by the driver ----

  /** True when the outbox holds a hook creation whose token the World has not accepted yet. */
  get hasUncommittedHook(): boolean {
    for (const hook of this.hooks.values()) if (hook.uncommitted) return true;
    return false;
  }

  takeOutbox(): NewEvent[] {
    const events = this.#outbox;
    this.#outbox = [];
    return events;
  }

  /**
   * While the run is being handed back: takes the events before the first step start still in the
   * outbox, and leaves that start and what follows. A step is launched only once its start is
   * committed, so an uncommitted start is a step this worker will not execute.
   */
  takeOutboxBeforeNewSteps(): NewEvent[] {
    const first = this.#outbox.findIndex((event) => event.type === "step_started");
    if (first === -1) return this.takeOutbox();
    const events = this.#outbox.slice(0, first);
    this.#outbox = this.#outbox.slice(first);
    return events;
  }

  /** The inbox items whose `hook_received` or `event_received` is still in the outbox (not committed yet). */
  inboxItemsInOutbox(): Set<string> {
    const items = new Set<string>();
    for (const event of this.#outbox) {
      if (event.type === "hook_received" && event.data.inboxId !== undefined) items.add(event.data.inboxId);
      if (event.type === "event_received") items.add(event.data.eventId);
    }
    return items;
  }

  /**
   * Before the run is handed back: drops the calls at the end of the outbox that were never acted
   * on — from the first step start on, when no outcome follows it — so they stay unrecorded and the
   * worker that takes the run next makes them afresh: a step handed back before it executed then
   * starts at the attempt it would have had, not as an interrupted one (attempt 2 on its first
   * execution). Other records among them (a failed attempt, a disposal) stay. After an outcome the
   * calls before it must stay (a replay delivers it after them), and those steps start later as
   * interrupted. The machine is not used again. Returns how many events were dropped.
   */
  dropUnstartedCalls(): number {
    const first = this.#outbox.findIndex((event) => event.type === "step_started");
    if (first === -1) return 0;
    const tail = this.#outbox.slice(first);
    if (tail.some((event) => OUTCOME_TYPES.has(event.type))) return 0;
    const droppedHooks = new Set<string>();
    const kept = tail.filter((event) => {
      if (event.type === "hook_created") droppedHooks.add(event.data.hookId);
      if (event.type === "hook_disposed") return !droppedHooks.has(event.data.hookId);
      return !CALL_TYPES.has(event.type);
    });
    this.#outbox = [...this.#outbox.slice(0, first), ...kept];
    return tail.length - kept.length;
  }

  /** Puts events back after a failed commit, ahead of anything pushed since. */
  restoreOutbox(events: NewEvent[]): void {
    this.#outbox = [...events, ...this.#outbox];
  }

  get outboxSize(): number {
    return this.#outbox.length;
  }

  committed(seq: number): void {
    this.seq = seq;
    for (const hook of this.hooks.values()) hook.uncommitted = false;
  }

  /**
   * The World refused a batch because a hook token is taken: turns that hook's creation into a
   * conflict in `events` (in place, same position) and queues the error for delivery.
   */
  convertHookConflict(events: NewEvent[], error: HookTokenConflictError): boolean {
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i];
      if (event?.type !== "hook_created" || event.data.token !== error.token) continue;
      const hook = this.hooks.get(event.data.hookId);
      if (hook) {
        hook.disposed = true;
        hook.uncommitted = false;
      }
      const at = event.createdAt ?? this.eventTime();
      const conflict: NewEvent = {
        type: "hook_conflict",
        data: { hookId: event.data.hookId, token: error.token },
        createdAt: at,
      };
      if (error.heldByRunId !== undefined) conflict.data.heldByRunId = error.heldByRunId;
      events[i] = conflict;
      this.pending.push({
        delivery: {
          kind: "hook_conflict",
          id: event.data.hookId,
          error: conflictText(error.token, error.heldByRunId),
        },
        at,
      });
      return true;
    }
    return false;
  }

  /**
   * Delivers the outcomes decided at call or commit time, each at the time its event is recorded
   * at, so the workflow sees the same `Date.now()` as when the log is replayed.
   */
  async deliverPending(): Promise<void> {
    while (this.pending.length > 0 && !this.finished) {
      const next = this.pending.shift();
      if (next) await this.#deliver(next.delivery, next.at);
    }
  }

  /**
   * Encodes codec text as a stored payload of this run at `place`, enforcing the per-payload and
   * per-run limits (`PayloadTooLargeError`, naming `what`), and counts it toward the run's total.
   */
  store(place: string, text: string, what: string): Uint8Array {
    const bytes = this.payloads.encode(this.scope, place, text);
    checkPayload(bytes.length, what, this.#options.limits);
    checkRunTotal(this.bytes, bytes.length, what, this.run.runId, this.#options.limits);
    this.bytes += bytes.length;
    return bytes;
  }

  /** `logs`: what the attempt printed (stored with its outcome, as with `failStep` and `retryStep`). */
  async completeStep(step: StepTask, value: string, at: number, logs?: CapturedLogs): Promise<void> {
    let payload: Uint8Array;
    try {
      payload = this.store(places.stepResult(step.id), value, `The result of step ${step.name}`);
    } catch (error) {
      await this.failStep(step, encodeError(error), true, at, logs);
      return;
    }
    const time = this.#advance(at);
    const data: Extract<NewEvent, { type: "step_completed" }>["data"] = {
      stepId: step.id,
      attempt: step.attempt,
    };
    this.#withStepLogs(data, step, logs);
    this.#push({ type: "step_completed", data, payload, createdAt: time });
    this.#resolveStep(step.id);
    await this.#deliver({ kind: "step_completed", id: step.id, value }, time);
  }

  async failStep(
    step: StepTask,
    error: string,
    fatal: boolean,
    at: number,
    logs?: CapturedLogs,
  ): Promise<void> {
    const time = this.#advance(at);
    const data: Extract<NewEvent, { type: "step_failed" }>["data"] = {
      stepId: step.id,
      attempt: step.attempt,
      fatal,
    };
    this.#withStepLogs(data, step, logs);
    this.#push({ type: "step_failed", data, payload: this.#storeError(step.id, error), createdAt: time });
    this.#resolveStep(step.id);
    await this.#deliver({ kind: "step_failed", id: step.id, error }, time);
  }

  retryStep(step: StepTask, error: string, retryAt: number, at: number, logs?: CapturedLogs): void {
    const data: Extract<NewEvent, { type: "step_retrying" }>["data"] = {
      stepId: step.id,
      attempt: step.attempt,
      retryAt,
    };
    this.#withStepLogs(data, step, logs);
    this.#push({
      type: "step_retrying",
      data,
      payload: this.#storeError(step.id, error),
      createdAt: this.#advance(at),
    });
    step.status = "retrying";
    step.retryAt = retryAt;
  }

  /**
   * Stores what an attempt printed on its outcome's metadata (`logs`). Output that cannot be stored
   * (the run is encrypted and this process has no key: its outcome fails to store too) is left out
   * rather than failing the step.
   */
  #withStepLogs(data: { logs?: SealedLogs }, step: StepTask, logs: CapturedLogs | undefined): void {
    if (logs === undefined) return;
    try {
      data.logs = sealLogs(this.payloads, this.scope, places.stepLogs(step.id, step.attempt), logs);
    } catch {
      // Left out: see above.
    }
  }

  /**
   * What the workflow body printed since the last append, stored for the next one (the driver puts
   * it on the append's first event as `workflowLogs`), with the lines to give back if that append
   * fails. Undefined when it printed nothing.
   */
  takeWorkflowLogs(): { sealed: SealedLogs; logs: CapturedLogs } | undefined {
    const buffer = this.#output;
    if (buffer === undefined || buffer.empty) return undefined;
    this.#output = undefined;
    const logs = buffer.take();
    if (logs === undefined) return undefined;
    const id = newId("log");
    try {
      return { sealed: { ...sealLogs(this.payloads, this.scope, places.workflowLogs(id), logs), id }, logs };
    } catch {
      return undefined;
    }
  }

  /** Gives back lines `takeWorkflowLogs` took for an append that failed: the next append takes them. */
  returnWorkflowLogs(logs: CapturedLogs): void {
    const since = this.#output?.take();
    const buffer = new LogBuffer();
    for (const line of [...logs.lines, ...(since?.lines ?? [])]) buffer.add(line.level, line.text, line.at);
    this.#output = buffer;
  }

  /**
   * Errors are always stored, even when the run is at its size limit (they are how the workflow
   * learns what went wrong); one over the per-payload limit is cut to its name and message.
   */
  #storeError(stepId: string, text: string): Uint8Array {
    const place = places.stepError(stepId);
    let bytes = this.payloads.encode(this.scope, place, text);
    if (bytes.length > this.#options.limits.maxPayloadBytes) {
      const original = decodeValue(text) as { name?: unknown; message?: unknown };
      const summary = new Error(String(original?.message ?? "").slice(0, 4096));
      summary.name = String(original?.name ?? "Error");
      bytes = this.payloads.encode(this.scope, place, encodeError(summary));
    }
    this.bytes += bytes.length;
    return bytes;
  }

  /** Records the next attempt of a step that waited for a retry or was interrupted. */
  nextAttempt(step: StepTask, at: number): void {
    step.attempt += 1;
    step.status = "queued";
    delete step.retryAt;
    this.#push({
      type: "step_started",
      data: { stepId: step.id, stepName: step.name, attempt: step.attempt },
      createdAt: this.#advance(at),
    });
  }

  async completeWait(waitId: string, at: number): Promise<void> {
    const time = this.#advance(at);
    this.waits.delete(waitId);
    this.#resolved.add(waitId);
    this.#push({ type: "wait_completed", data: { waitId }, createdAt: time });
    await this.#deliver({ kind: "wait_completed", id: waitId }, time);
  }

  /**
   * The event wait that takes an event of `eventType` sent at `sentAt`: the first one made (call
   * order) of that type whose timeout had not passed when the event was sent. Undefined when none
   * does: the event stays in the inbox for a later wait.
   */
  eventWaitFor(eventType: string, sentAt: number): string | undefined {
    for (const [waitId, wait] of this.eventWaits) {
      if (wait.eventType === eventType && sentAt <= wait.timeoutAt) return waitId;
    }
    return undefined;
  }

  /**
   * Delivers an event to the event wait `waitId` and records it (`event_received`, with the
   * payload as it was stored). The payload is decoded BEFORE anything is recorded: one that cannot
   * be read here (`PayloadDecryptionError`) throws and leaves the log as it was. Its bytes were
   * counted toward the run's total when it was put in the inbox.
   */
  async receiveEvent(waitId: string, event: IncomingEvent, at: number): Promise<void> {
    const place = places.eventPayload(event.itemId, event.eventType);
    const text = this.payloads.decode(this.scope, place, event.payload);
    const time = this.#advance(at);
    this.#push({
      type: "event_received",
      data: { waitId, eventId: event.itemId, eventType: event.eventType, sentAt: event.sentAt },
      payload: event.payload,
      createdAt: time,
    });
    this.#resolveEventWait(waitId);
    await this.#deliver({ kind: "event_received", id: waitId, payload: text, sentAt: event.sentAt }, time);
  }

  /** Ends the event wait `waitId` at its timeout: the workflow's wait throws `WaitTimeoutError`. */
  async timeOutEventWait(waitId: string, at: number): Promise<void> {
    const time = this.#advance(at);
    this.#push({ type: "event_wait_timed_out", data: { waitId }, createdAt: time });
    this.#resolveEventWait(waitId);
    await this.#deliver({ kind: "event_timed_out", id: waitId }, time);
  }

  /**
   * Delivers a hook payload (stored bytes from the inbox item `inboxId`). False if the hook no
   * longer listens. The payload is decoded BEFORE anything is recorded: one that cannot be read
   * here (`PayloadDecryptionError`: its key is not configured, or it is forged) throws and leaves
   * the log as it was. Its bytes were counted toward the run's total when it was put in the inbox.
   */
  async receiveHook(hookId: string, payload: Uint8Array, inboxId: string, at: number): Promise<boolean> {
    const hook = this.hooks.get(hookId);
    if (hook === undefined || hook.disposed) return false;
    const text = this.payloads.decode(this.scope, places.hookPayload(hookId, inboxId), payload);
    const time = this.#advance(at);
    this.#push({ type: "hook_received", data: { hookId, inboxId }, payload, createdAt: time });
    await this.#deliver({ kind: "hook_received", id: hookId, payload: text }, time);
    return true;
  }

  /**
   * Bytes of payload in events not committed yet that the World has not counted (a hook or event
   * payload was counted when it entered the inbox).
   */
  get outboxBytes(): number {
    let total = 0;
    for (const event of this.#outbox) {
      if (event.type !== "hook_received" && event.type !== "event_received")
        total += event.payload?.length ?? 0;
    }
    return total;
  }

  /** The earliest time a sleep, an event wait's timeout or a retry is due, if any. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const resumeAt of this.waits.values()) if (next === undefined || resumeAt < next) next = resumeAt;
    for (const { timeoutAt } of this.eventWaits.values())
      if (next === undefined || timeoutAt < next) next = timeoutAt;
    for (const step of this.steps.values()) {
      if (
        step.status === "retrying" &&
        step.retryAt !== undefined &&
        (next === undefined || step.retryAt < next)
      )
        next = step.retryAt;
    }
    return next;
  }
}

/** Step arguments (codec text) as a person reads them, on one line and cut short. */
function readableArguments(text: string): string {
  let shown: string;
  try {
    shown = inspect(decodeValue(text), { depth: 3, breakLength: Number.POSITIVE_INFINITY, compact: true });
  } catch {
    shown = text; // e.g. a stream handle, which only a step's context can open
  }
  return shown.length > 200 ? `${shown.slice(0, 197)}...` : shown;
}
