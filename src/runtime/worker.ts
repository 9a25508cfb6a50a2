/**
 * The worker: claims queue messages of the workflows registered in this process (and no others:
 * a run is only ever claimed by a worker that can drive it), as many as it can start now (its free
 * capacity: step slots no run it drives demands, see `capacity.ts`), takes the lease of each
 * message's run, and drives the run (see `driver.ts`). It keeps suspended runs' sandboxes in an LRU cache so a run that wakes up in
 * the same worker continues without replay, renews its leases with a heartbeat, reacts to World
 * notifications instead of polling, and never keeps the Node process alive by itself: every timer
 * it owns is unref'd.
 */
import { PayloadDecryptionError } from "../serde/errors.ts";
import { createPayloadCodec, type PayloadCodec } from "../serde/payload.ts";
import { newOwnerId } from "../util/owner.ts";
import type { EventRecord } from "../world/events.ts";
import { pickUpRun } from "../world/pick-up.ts";
import {
  type InboxItem,
  type QueueFilter,
  type QueueMessage,
  type RunRecord,
  TERMINAL_RUN_STATUSES,
  type World,
  type WorldNotification,
} from "../world/types.ts";
import "./builtin-steps.ts";
import { bundleForRun, storeBundle } from "./bundles.ts";
import { freeCapacity } from "./capacity.ts";
import { type Clock, wallClock } from "./clock.ts";
import { type DriveOutcome, RunDriver } from "./driver.ts";
import { type Limits, limitsFromEnv } from "./limits.ts";
import { LruCache } from "./lru.ts";
import type { RunMachine } from "./machine.ts";
import { getWorkflowBundle, onWorkflowsRegistered, registeredWorkflowList } from "./registry.ts";
import { replayRun } from "./replay-run.ts";
import { type RunEnding, type RunWaiting, runEnding, runWaiting } from "./run-report.ts";
import { traceRun } from "./run-trace.ts";
import { Semaphore } from "./semaphore.ts";
import { loadTracing } from "./tracing.ts";
import { SPEC_VERSION } from "./version.ts";

/**
 * A run handed back because it calls a step this worker lacks comes back to the queue after at most
 * this long (for a worker that has the step), however long this worker itself leaves it alone.
 */
const CODE_RETRY_MS = 2_000;
/** How long after such a message comes due this worker looks, so that the others look first. */
const YIELD_MS = 250;
/** How often a worker repeats its announcement to a server (`World.workers.announce`); a listing lapses after 60 s. */
const ANNOUNCE_EVERY_MS = 15_000;

export interface WorkerOptions {
  world: World;
  /** Lease owner id; a fresh `host/pid/random` by default. */
  owner?: string;
  /** How long a run's lease lasts without renewal (default 5 s); renewed every quarter of it. */
  leaseMs?: number;
  /** Runs driven at once (default 256). */
  maxActiveRuns?: number;
  /**
   * Steps executing at once across all runs (default 256; `--concurrency`). It is also what the
   * worker claims against: each run it drives demands the slots of its running steps, at least
   * one, and it claims only as many runs as slots are left (`capacity.ts`), leaving the rest in
   * the queue for other workers.
   */
  maxConcurrentSteps?: number;
  /** Steps executing at once within one run (default 32). */
  perRunConcurrency?: number;
  /** Suspended runs kept in memory for a fast wake-up (default 256); 0 disables the cache. */
  maxCachedRuns?: number;
  /** A suspended run's sandbox is dropped after this long (default 60 s). */
  cacheIdleMs?: number;
  /** Waits due within this much time are waited for in memory, keeping the lease (default 1 s). */
  holdMs?: number;
  /**
   * How long a stopping worker lets the steps in flight run before it aborts their signals
   * (reason `shutdown`; default 10 s). Steps that end within it are recorded as usual.
   */
  stopGraceMs?: number;
  payloads?: PayloadCodec;
  /** Payload size limits (default: from STEPWISE_MAX_PAYLOAD_BYTES / STEPWISE_MAX_RUN_BYTES). */
  limits?: Limits;
  /** Where the worker reports problems (default: console.warn). */
  warn?: (message: string, error?: unknown) => void;
  /** Told each time the worker stops driving a run, and why (progress output, metrics). */
  onRun?: (report: RunReport) => void;
  /**
   * Drive only these runs: claims ask for their messages alone (`QueueFilter.runIds`), so the
   * worker never takes, let alone executes, another run (`npx stepwise start --wait`). Default:
   * every run of the workflows registered in the process.
   */
  runIds?: readonly string[];
  /**
   * The clock runs are driven on: due sleeps and retries, event times, step timeouts, when a
   * handed-back run is looked at again (default: the wall clock; `stepwise-workflows/testing`
   * passes a virtual one). The World must read the same time (its `now` option).
   */
  clock?: Clock;
  /** Bodies to run instead of registered steps' (a test environment's mocks): see `StepEnvironment.bodyFor`. */
  stepBodies?: (stepName: string) => ((...args: unknown[]) => unknown) | undefined;
  /**
   * A step a run calls that is not in this process's code: "wait" (default) hands the run back for
   * a worker that has it (`step_unavailable`); "fail" fails the step at once with a
   * `StepNotRegisteredError` (a test environment, where only this process will ever run it).
   */
  missingSteps?: "wait" | "fail";
}

export interface RunReport {
  runId: string;
  workflowName: string;
  /** finished: the run ended; suspended: it waits (sleep, hook, retry); stopped: handed back. */
  outcome: DriveOutcome;
  /** Steps that completed while this worker drove the run this time. */
  stepsCompleted: number;
  /** outcome "finished": how the run ended (completed, failed with which error, cancelled). */
  ended?: RunEnding;
  /** outcome "suspended": what the run waits for (sleeps, hooks, steps' next attempts). */
  waiting?: RunWaiting;
  /** outcome "deferred" because the run calls a step this worker's code does not have: its name. */
  unavailableStep?: string;
}

interface ActiveRun {
  anchors: string[];
  driver?: RunDriver;
  leased: boolean;
  /**
   * Something was said of the run's inbox (a hint, a new message for the run) before its driver
   * existed: an inbox read made before then may be out of date.
   */
  inboxHinted?: boolean;
}

export class Worker {
  readonly owner: string;
  readonly world: World;
  readonly #options: Required<
    Omit<
      WorkerOptions,
      | "owner"
      | "world"
      | "payloads"
      | "limits"
      | "warn"
      | "onRun"
      | "runIds"
      | "clock"
      | "stepBodies"
      | "missingSteps"
    >
  >;
  /** The claims' filter: the registered workflows, and the runs when limited to some. */
  readonly #runIds: readonly string[] | undefined;
  readonly #onRun: ((report: RunReport) => void) | undefined;
  readonly #clock: Clock;
  readonly #stepBodies: WorkerOptions["stepBodies"];
  readonly #waitForSteps: boolean;
  readonly #payloads: PayloadCodec;
  readonly #limits: Limits;
  readonly #warn: (message: string, error?: unknown) => void;
  readonly #active = new Map<string, ActiveRun>();
  readonly #cache: LruCache<string, RunMachine>;
  readonly #slots: Semaphore;
  readonly #idle = new Set<() => void>();
  readonly #warned = new Set<string>();
  /** The workflows last announced (joined), and when. */
  #announced: string | undefined;
  #announcedAt = 0;
  /**
   * Runs this worker handed back undone (a payload it cannot decrypt, a step it does not have):
   * how often in a row, for the backoff.
   */
  readonly #handedBack = new Map<string, number>();
  /**
   * Runs that call a step this worker does not have: until when it leaves them to other workers.
   * Their messages come back to the queue soon (`CODE_RETRY_MS`), so a worker that has the step
   * takes them within seconds; this one hands them straight back, without replaying, until then.
   */
  readonly #holdOff = new Map<string, number>();
  /** When messages this worker handed back for others come due: it looks a little after them. */
  readonly #yielded = new Set<number>();
  #unsubscribe: (() => void) | undefined;
  #unlistenRegistry: (() => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Cancels the timer that claims again when the next message comes due. */
  #claimTimer: (() => void) | undefined;
  #claimScheduled = false;
  /** The last claim stopped because no capacity was left: a step slot let go looks again. */
  #full = false;
  #claiming = false;
  #claimAgain = false;
  #running = false;
  #stopping: Promise<void> | undefined;
  #lastBroadcast = 0;
  #claimFailures = 0;

  constructor(options: WorkerOptions) {
    this.world = options.world;
    this.owner = options.owner ?? newOwnerId();
    this.#options = {
      leaseMs: options.leaseMs ?? 5_000,
      maxActiveRuns: options.maxActiveRuns ?? 256,
      maxConcurrentSteps: options.maxConcurrentSteps ?? 256,
      perRunConcurrency: options.perRunConcurrency ?? 32,
      maxCachedRuns: options.maxCachedRuns ?? 256,
      cacheIdleMs: options.cacheIdleMs ?? 60_000,
      holdMs: options.holdMs ?? 1_000,
      stopGraceMs: options.stopGraceMs ?? 10_000,
    };
    this.#payloads = options.payloads ?? createPayloadCodec();
    this.#limits = options.limits ?? limitsFromEnv();
    this.#warn = options.warn ?? ((message, error) => console.warn(`[stepwise] ${message}`, error ?? ""));
    this.#onRun = options.onRun;
    this.#clock = options.clock ?? wallClock;
    this.#stepBodies = options.stepBodies;
    this.#waitForSteps = (options.missingSteps ?? "wait") === "wait";
    this.#runIds = options.runIds === undefined ? undefined : [...options.runIds];
    this.#cache = new LruCache(this.#options.maxCachedRuns);
    // A slot let go while the worker was full may be capacity for a run waiting in the queue
    // (a fan-out's steps ended); not otherwise, or every step would cost a claim.
    this.#slots = new Semaphore(this.#options.maxConcurrentSteps, () => {
      if (this.#full) this.#scheduleClaim();
    });
  }

  get activeRuns(): number {
    return this.#active.size;
  }

  /**
   * True while the worker drives a run or looks for work: a claim scheduled or in progress (which
   * ends by arming the timer for the next due message). A run it lets go schedules a claim in the
   * same turn, so there is no moment between the two when it looks idle (the test environment
   * relies on this to decide that nothing will happen until its clock moves).
   */
  get busy(): boolean {
    return this.#active.size > 0 || this.#claimScheduled || this.#claiming;
  }

  get cachedRuns(): number {
    return this.#cache.size;
  }

  /** Steps executing right now, across the runs this worker drives. */
  get runningSteps(): number {
    let count = 0;
    for (const active of this.#active.values()) count += active.driver?.runningSteps ?? 0;
    return count;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.world.subscribe((notification) => this.#onNotification(notification));
    // A workflow registered later may have runs waiting: claims (and the claim timer) look only
    // at the workflows registered so far.
    this.#unlistenRegistry = onWorkflowsRegistered(() => this.#scheduleClaim());
    const beat = Math.max(50, Math.floor(this.#options.leaseMs / 4));
    this.#heartbeat = setInterval(() => void this.#beat(), beat);
    this.#heartbeat.unref();
    this.#scheduleClaim();
    void this.#announce();
    // Loaded once per process, before the first run is replayed (which awaits it).
    void loadTracing();
  }

  /**
   * Over a World that lists workers (the remote World), says which workflows this worker drives,
   * so clients elsewhere (a Python one) find them by their plain names; repeated every 15 s and
   * when the registered workflows change. A worker limited to some runs does not announce.
   */
  async #announce(): Promise<void> {
    const announce = this.world.workers?.announce;
    if (announce === undefined || this.#runIds !== undefined || !this.#running) return;
    const workflows = registeredWorkflowList();
    const key = workflows.join("\n");
    if (key === this.#announced && Date.now() - this.#announcedAt < ANNOUNCE_EVERY_MS) return;
    this.#announced = key;
    this.#announcedAt = Date.now();
    try {
      await announce.call(this.world.workers, workflows);
    } catch (error) {
      this.#announced = undefined;
      this.#warnOnce(
        "announce",
        `telling the server which workflows this worker drives failed; retrying. ${String(error)}`,
      );
    }
  }

  /** Resolves when no run is being driven (for tests and orderly shutdown). */
  whenIdle(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /**
   * Stops taking work. Runs being driven finish the steps in flight, commit, and are handed back
   * to the queue for another worker; resolves when all are handed back. Steps still running after
   * `stopGraceMs` have their signals aborted (reason `shutdown`).
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#running = false;
    this.#unsubscribe?.();
    this.#unlistenRegistry?.();
    this.#claimTimer?.();
    for (const active of this.#active.values()) active.driver?.requestStop();
    // Steps still running when the grace runs out are told to stop (their signals abort).
    const grace = setTimeout(
      () => {
        for (const active of this.#active.values()) active.driver?.abortSteps("shutdown");
      },
      Math.min(this.#options.stopGraceMs, 2 ** 31 - 1),
    );
    grace.unref();
    this.#stopping = this.whenIdle().then(() => {
      clearTimeout(grace);
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      this.#cache.clear();
    });
    return this.#stopping;
  }

  #onNotification(notification: WorldNotification): void {
    switch (notification.type) {
      case "queue":
        this.#scheduleClaim();
        return;
      case "inbox": {
        const active = this.#active.get(notification.runId);
        if (active?.driver) active.driver.notifyInbox();
        else if (active) active.inboxHinted = true;
        return;
      }
      case "any": {
        this.#scheduleClaim();
        for (const active of this.#active.values()) if (!active.driver) active.inboxHinted = true;
        // Another process changed something: a held run may have inbox items. Look, at most every 50 ms.
        const now = Date.now();
        if (now - this.#lastBroadcast < 50) return;
        this.#lastBroadcast = now;
        for (const active of this.#active.values()) active.driver?.notifyInbox();
        return;
      }
      default:
        return;
    }
  }

  #scheduleClaim(): void {
    if (!this.#running || this.#claimScheduled) return;
    this.#claimScheduled = true;
    setImmediate(() => {
      this.#claimScheduled = false;
      void this.#claim();
    });
  }

  async #claim(): Promise<void> {
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = true;
    try {
      do {
        this.#claimAgain = false;
        if (!this.#running) return;
        // Only what it can start now: a run claimed but not started would sit here while another
        // worker is idle. When runs end or a slot comes free, it looks again.
        const capacity = this.#freeCapacity();
        this.#full = capacity <= 0;
        if (this.#full) return;
        const limit = Math.min(capacity, 64);
        const messages = await this.world.queue.claim(this.owner, {
          limit,
          leaseMs: this.#options.leaseMs,
          ...this.#filter(),
        });
        for (const message of messages) this.#handle(message);
        if (messages.length === limit) this.#claimAgain = true;
      } while (this.#claimAgain);
      await this.#armClaimTimer();
      if (this.#claimFailures > 0) {
        this.#warn(`the ${this.world.name} World is reachable again.`);
        this.#claimFailures = 0;
      }
    } catch (error) {
      if (!this.#running) return; // stopping: the World may already be closed
      // The World is unreachable or failing: back off (up to 30 s), say so once per streak.
      this.#claimFailures += 1;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.#claimFailures - 1, 7));
      if (this.#claimFailures === 1 || this.#claimFailures % 10 === 0) {
        this.#warn(
          `cannot claim work from the ${this.world.name} World (${(error as Error).message ?? String(error)}); retrying with backoff, next in ${delay} ms.`,
        );
      }
      this.#armRetry(delay);
    } finally {
      this.#claiming = false;
      // Asked for again while the timer was being armed (after the loop's last look): look again.
      if (this.#claimAgain) {
        this.#claimAgain = false;
        this.#scheduleClaim();
      }
    }
  }

  async #armClaimTimer(): Promise<void> {
    const next = await this.world.queue.nextAvailableAt(this.#filter());
    if (!this.#running || next === undefined) return;
    const now = this.#clock.now();
    for (const at of this.#yielded) if (at < now - 1_000) this.#yielded.delete(at);
    // A message this worker handed back for a worker that has the code comes due: let the others
    // look first (they would lose every race to the worker that set the time).
    const after = this.#yielded.has(next) ? YIELD_MS : 0;
    // A wall-clock timer may fire a little early: look a millisecond after the message is due.
    this.#armRetry(Math.max(0, next - now) + (this.#clock.precise ? 0 : 1) + after);
  }

  /** How many new runs this worker can start now (`capacity.ts`). */
  #freeCapacity(): number {
    const runs = [...this.#active.values()].map((active) => ({ runningSteps: active.driver?.runningSteps }));
    return freeCapacity(this.#options, runs);
  }

  /** Which messages this worker claims: its workflows' (read afresh), and only its runs' if limited. */
  #filter(): QueueFilter {
    const workflows = registeredWorkflowList();
    return this.#runIds === undefined ? { workflows } : { workflows, runIds: this.#runIds };
  }

  #armRetry(delay: number): void {
    this.#claimTimer?.();
    this.#claimTimer = this.#clock.at(this.#clock.now() + delay, () => this.#scheduleClaim());
  }

  #handle(message: QueueMessage): void {
    const existing = this.#active.get(message.runId);
    if (existing !== undefined) {
      if (existing.driver) {
        existing.driver.anchors.push(message.messageId);
        existing.driver.notifyInbox();
      } else {
        existing.anchors.push(message.messageId);
        existing.inboxHinted = true;
      }
      return;
    }
    if (this.#freeCapacity() <= 0) {
      // More than it can start now (a run fanned out while the claim was on its way, or a World
      // gave more than the claim's limit): let go at once, untouched, for a worker with room.
      this.#full = true;
      void this.world.queue
        .release(this.owner, message.messageId, this.#clock.now())
        .catch((error: unknown) => this.#warn(`handing run ${message.runId} back failed.`, error));
      return;
    }
    const active: ActiveRun = { anchors: [message.messageId], leased: false };
    this.#active.set(message.runId, active);
    void this.#take(message.runId, active)
      .catch((error: unknown) => {
        if (PayloadDecryptionError.is(error)) {
          return this.#handBack(message.runId, active, this.#deferUnreadable(message.runId, error));
        }
        this.#warn(`driving run ${message.runId} failed; it will be retried.`, error);
        return this.#handBack(message.runId, active, this.#clock.now() + 1_000);
      })
      .catch((error: unknown) => this.#warn(`handing run ${message.runId} back failed.`, error))
      .finally(() => {
        this.#active.delete(message.runId);
        if (this.#active.size === 0) {
          for (const resolve of this.#idle) resolve();
          this.#idle.clear();
        }
        this.#scheduleClaim();
      });
  }

  /**
   * Whether a paused run's inbox asks to lift the pause: a resume (put while it was pausing), a
   * cancel or a restart's stop.
   */
  #pauseLifted(items: readonly InboxItem[]): boolean {
    return items.some((item) => item.kind === "resume" || item.kind === "cancel" || item.kind === "restart");
  }

  async #take(runId: string, active: ActiveRun): Promise<void> {
    const { world, owner } = this;
    const heldOff = this.#holdOff.get(runId);
    if (heldOff !== undefined) {
      const now = this.#clock.now();
      if (heldOff > now) {
        // It waits for a worker that has a step this one lacks: straight back, for the others.
        await this.#releaseMessages(active, this.#yield(now + Math.min(heldOff - now, CODE_RETRY_MS)));
        return;
      }
      this.#holdOff.delete(runId);
    }
    // One call over a remote World: the lease, the log (unless the cached sandbox has it) and the
    // inbox (world/pick-up.ts).
    const cachedSeq = this.#cache.peek(runId)?.seq;
    active.inboxHinted = false;
    const acquired = await pickUpRun(world, runId, owner, this.#options.leaseMs, cachedSeq);
    const run = acquired.run;
    if (!acquired.acquired) {
      // Another worker drives the run; it was told to look again. Keep our messages as a fallback
      // in case it dies: they come back when its lease would have expired.
      await this.#releaseMessages(active, (run.lease?.expiresAt ?? this.#clock.now()) + 100);
      return;
    }
    active.leased = true;
    if (TERMINAL_RUN_STATUSES.has(run.status)) {
      await world.queue.ack(owner, active.anchors);
      await world.runs.release(runId, owner);
      this.#cache.delete(runId);
      return;
    }
    let inbox = acquired.inbox;
    if (run.status === "paused" && !this.#pauseLifted(inbox ?? (await world.inbox.list(runId)))) {
      // Paused: what woke it (a hook payload, an event, a sleep's wake-up) waits for the resume,
      // which enqueues a wake-up of its own. Nothing to replay or run until then.
      await world.queue.ack(owner, active.anchors);
      active.anchors = [];
      // Not let go: someone asked for the run meanwhile (a resume, say). Drive it: the driver
      // starts paused and looks at the inbox.
      if (await world.runs.release(runId, owner)) {
        this.#onRun?.({ runId, workflowName: run.workflowName, outcome: "paused", stepsCompleted: 0 });
        return;
      }
      inbox = undefined; // read before that ask: the driver reads the inbox itself
    }
    if (run.specVersion > SPEC_VERSION) {
      this.#warnOnce(
        `spec:${runId}`,
        `run ${runId} was created by a newer Stepwise (format ${run.specVersion}, this worker knows ${SPEC_VERSION}); leaving it to a newer worker.`,
      );
      await this.#handBack(runId, active, this.#clock.now() + 60_000);
      return;
    }
    const bundle = getWorkflowBundle(run.workflowName);
    if (bundle === undefined) {
      // A safety net, not the normal path: claims ask only for registered workflows, so this
      // happens with a World that ignores the claim's workflow filter (or a registry cleared in
      // tests). Hand the run back for a worker that has the workflow.
      this.#warnOnce(
        `wf:${run.workflowName}`,
        `this worker has no workflow ${run.workflowName}, yet the ${world.name} World gave it run ${runId}: the World ignores the workflow filter of queue.claim (QueueFilter.workflows), so runs may pass between workers before one that can drive them takes them. The run is left for a worker that loads the workflow; upgrade the World to filter claims.`,
      );
      await this.#handBack(runId, active, this.#clock.now() + 5_000);
      return;
    }
    // The inbox was read with the lease; the driver takes that read unless something was said of
    // the inbox since (a paused run that was let go above: the driver reads the inbox itself).
    const machine = await this.#machineFor(run, acquired.events);
    const driver = new RunDriver(
      machine,
      {
        world,
        owner,
        stepSlots: this.#slots,
        perRunConcurrency: this.#options.perRunConcurrency,
        holdMs: this.#options.holdMs,
        waitForMissingSteps: this.#waitForSteps,
        warn: (message) => this.#warn(message),
        clock: this.#clock,
        stepEnv: {
          world,
          clock: this.#clock,
          ...(this.#stepBodies ? { bodyFor: this.#stepBodies } : {}),
          payloads: this.#payloads,
          limits: this.#limits,
          stored: (id, bytes) => {
            const driving = this.#active.get(id)?.driver;
            if (driving !== undefined) driving.machine.bytes += bytes;
          },
        },
      },
      active.anchors,
      run.status,
    );
    if (inbox !== undefined && !active.inboxHinted) driver.primeInbox(inbox);
    active.driver = driver;
    if (!this.#running) driver.requestStop();
    const outcome: DriveOutcome = await driver.drive();
    active.anchors = driver.anchors;
    if (this.#onRun !== undefined) {
      const report: RunReport = {
        runId,
        workflowName: run.workflowName,
        outcome,
        stepsCompleted: driver.stepsCompleted,
      };
      const ended = runEnding(driver);
      if (ended !== undefined) report.ended = ended;
      if (outcome === "suspended") report.waiting = runWaiting(driver);
      if (driver.missingStep !== undefined) report.unavailableStep = driver.missingStep.stepName;
      this.#onRun(report);
    }
    if (outcome !== "deferred") {
      this.#handedBack.delete(runId);
      this.#holdOff.delete(runId);
    }
    switch (outcome) {
      case "deferred":
        await this.#handBack(
          runId,
          active,
          driver.missingStep === undefined
            ? this.#deferUnreadable(runId, driver.deferral)
            : this.#deferForCode(runId, driver.missingStep),
        );
        return;
      case "suspended":
      case "finished":
      case "paused":
        if (outcome === "suspended") this.#cache.put(runId, machine);
        // Messages that arrived while the run was being released are answered by a new claim.
        await this.#releaseMessages(active, this.#clock.now());
        return;
      case "stopped":
        await this.#handBack(runId, active, this.#clock.now());
        return;
      case "lost":
        return;
    }
  }

  /**
   * A run holds a payload this worker cannot read (its key is not configured here, or it was
   * forged): says so once per run and reason, and returns when to look at the run again — soon
   * at first, then backing off to a minute, so that a worker with the key (or a restored
   * database) picks it up while this one does not spin on it. Nothing is recorded in the run.
   */
  #deferUnreadable(runId: string, error: PayloadDecryptionError | undefined): number {
    const what =
      error?.reason === "missing-key"
        ? `needs key id ${error.keyId ?? "?"}, which this worker does not have`
        : "holds a payload that fails authentication";
    this.#warnOnce(
      `unreadable:${runId}:${error?.reason}:${error?.keyId}`,
      `run ${runId} ${what}; it is left for a worker that can read it (this worker looks again, backing off to once a minute). ${error?.message ?? ""}`,
    );
    return this.#backOff(runId);
  }

  /**
   * A run calls a step this worker's code does not have (a deploy removed or renamed it; the run
   * recorded `step_unavailable`): says so once per run and step, leaves the run alone for a while
   * (backing off to a minute, as for an unreadable run: until then it hands the run's messages
   * straight back, without replaying it) and returns when the run's message comes back to the
   * queue: within `CODE_RETRY_MS`, so a worker that has the step (an older version still running,
   * or a new deploy) takes it soon, and looks first (`#armClaimTimer`).
   */
  #deferForCode(runId: string, step: { stepId: string; stepName: string }): number {
    this.#warnOnce(
      `code:${runId}:${step.stepId}`,
      `run ${runId} calls step \`${step.stepName}\`, which is not in this worker's code: the run waits for a worker that has it (this worker looks again, backing off to once a minute). Deploy a worker that has the step, or, if the run replays cleanly against the current code, move it there with npx stepwise upgrade ${runId}.`,
    );
    const until = this.#backOff(runId);
    this.#holdOff.set(runId, until);
    const now = this.#clock.now();
    return this.#yield(now + Math.min(until - now, CODE_RETRY_MS));
  }

  /** `at`, remembered as a time this worker handed a message back for others (see `#armClaimTimer`). */
  #yield(at: number): number {
    this.#yielded.add(at);
    return at;
  }

  /** When to look again at a run handed back undone for the `count`-th time: 1 s doubling to a minute. */
  #backOff(runId: string): number {
    const count = (this.#handedBack.get(runId) ?? 0) + 1;
    this.#handedBack.set(runId, count);
    return this.#clock.now() + Math.min(60_000, 1_000 * 2 ** Math.min(count - 1, 6));
  }

  /** The run's machine: the cached one when it is up to date, else a replay of `read` (or of a fresh read). */
  async #machineFor(run: RunRecord, read: EventRecord[] | undefined): Promise<RunMachine> {
    const cached = this.#cache.take(run.runId);
    if (cached !== undefined && cached.seq === run.seq && !cached.finished) {
      cached.bytes = run.payloadBytes;
      return cached;
    }
    const events = read ?? (await this.world.events.list(run.runId));
    // Replayed with the code it is pinned to, which this worker stores if it is its own.
    const bundle = await bundleForRun(this.world, run.workflowName, events, this.#payloads);
    if (bundle !== undefined && bundle === getWorkflowBundle(run.workflowName))
      await storeBundle(this.world, bundle, this.#payloads);
    const machine = await replayRun(
      run,
      events,
      {
        payloads: this.#payloads,
        limits: this.#limits,
        now: () => this.#clock.now(),
        ...(bundle === undefined ? {} : { bundle }),
      },
      this.#clock.now(),
    );
    // OpenTelemetry, when the application has it: loaded once, then the run's spans (run-trace.ts).
    await loadTracing();
    traceRun(machine, events, this.#clock);
    return machine;
  }

  async #handBack(runId: string, active: ActiveRun, availableAt: number): Promise<void> {
    if (active.leased) {
      // A first release may be refused because someone asked for the run; the flag is then
      // cleared and the second one goes through.
      if (!(await this.world.runs.release(runId, this.owner)))
        await this.world.runs.release(runId, this.owner);
    }
    await this.#releaseMessages(active, availableAt);
  }

  async #releaseMessages(active: ActiveRun, availableAt: number): Promise<void> {
    for (const messageId of active.anchors)
      await this.world.queue.release(this.owner, messageId, availableAt);
    active.anchors = [];
  }

  async #beat(): Promise<void> {
    void this.#announce();
    try {
      this.#cache.evictOlderThan(Date.now() - this.#options.cacheIdleMs);
      const leased = [...this.#active].filter(([, active]) => active.leased).map(([runId]) => runId);
      if (leased.length > 0) {
        const held = new Set(await this.world.runs.renew(this.owner, leased, this.#options.leaseMs));
        for (const runId of leased) {
          if (!held.has(runId)) this.#active.get(runId)?.driver?.abandon();
        }
      }
      const anchors = [...this.#active.values()].flatMap(
        (active) => active.driver?.anchors ?? active.anchors,
      );
      if (anchors.length > 0) await this.world.queue.extend(this.owner, anchors, this.#options.leaseMs);
    } catch (error) {
      this.#warn("renewing leases failed.", error);
    }
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#warn(message);
  }
}
