/**
 * The process setup behind `stepwise-workflows/api`: the process's client (`processClient()`) over
 * one World (opened from the environment on first use, `world-env.ts`, or set with `configure`),
 * the payload codec and limits, and the in-process worker, which starts with the first `start()`,
 * `getRun()` or `resumeHook()` of a process that has workflows registered, unless it is turned off
 * (`configure({ inProcessWorker: false })`, or STEPWISE_WORKER=0), or, with `driveOnly`, limited to
 * the runs a process started. The worker ends gracefully with the process (`graceful-exit.ts`: on
 * SIGINT / SIGTERM and at the end of a script its running steps finish and its runs are handed
 * back). Nothing here keeps the process alive by itself (`client/keep-alive.ts`). It sits above
 * `runtime/`, which never learns which World is in use.
 */
import { Client } from "../client/client.ts";
import { setDefaultClient } from "../client/default.ts";
import { guardExit } from "../runtime/graceful-exit.ts";
import { type Limits, limitsFromEnv } from "../runtime/limits.ts";
import { hasRegisteredWorkflows, onWorkflowsRegistered } from "../runtime/registry.ts";
import type { Worker, WorkerOptions } from "../runtime/worker.ts";
import { PLAINTEXT_NOTICE } from "../serde/keys.ts";
import { createPayloadCodec, type PayloadCodec } from "../serde/payload.ts";
import type { World } from "../world/types.ts";
import { createWorldFromEnv } from "./world-env.ts";

let worldPromise: Promise<World> | undefined;
let payloads: PayloadCodec | undefined;
let worker: Worker | undefined;
/**
 * Counts shutdowns: a worker start that awaited (the World, the worker's module) across one
 * must not start with the World that shutdown closed.
 */
let epoch = 0;
let workerOptions: Omit<WorkerOptions, "world"> = {};
let waitingForWorkflows: (() => void) | undefined;
let removeExitGuard: (() => void) | undefined;
let limits: Limits | undefined;
/** False once `configure({ inProcessWorker: false })` turned the in-process worker off. */
let inProcessWorkerConfigured = true;

export interface ConfigureOptions {
  /** Use this World instead of the one STEPWISE_WORLD names. */
  world?: World;
  /** Payload size limits instead of STEPWISE_MAX_PAYLOAD_BYTES / STEPWISE_MAX_RUN_BYTES. */
  limits?: Limits;
  /** Options for the in-process worker. */
  worker?: Omit<WorkerOptions, "world">;
  /**
   * False makes this process a client only, as STEPWISE_WORKER=0 does: it starts and reads runs
   * (and may start workflows it has not loaded, by reference) but executes nothing. Default true
   * (unless STEPWISE_WORKER=0). `driveOnly` still starts a worker limited to the runs it names.
   */
  inProcessWorker?: boolean;
}

/** Sets the World and worker options before first use (embedding, tests, the CLI). */
export function configure(options: ConfigureOptions): void {
  if (options.world) worldPromise = Promise.resolve(options.world);
  if (options.worker) workerOptions = options.worker;
  if (options.limits) limits = options.limits;
  if (options.inProcessWorker !== undefined) inProcessWorkerConfigured = options.inProcessWorker;
}

/**
 * Why this process has no in-process worker by choice: `"configured"` (`configure({
 * inProcessWorker: false })`), `"environment"` (STEPWISE_WORKER=0), or undefined when it may
 * have one.
 */
export function inProcessWorkerOff(): "configured" | "environment" | undefined {
  if (!inProcessWorkerConfigured) return "configured";
  if (process.env.STEPWISE_WORKER === "0") return "environment";
  return undefined;
}

let client: Client | undefined;

/**
 * The process's client: its World, codec and limits are the process's (read when used, so
 * `configure` and `shutdown` apply), and each use starts the in-process worker if it should run.
 * What `stepwise-workflows/api` calls, and `createHandler()` without a client.
 */
export function processClient(): Client {
  client ??= new Client({
    world: getWorld,
    payloads: getPayloadCodec,
    limits: getLimits,
    used: ensureWorker,
    clientOnly: () => inProcessWorkerOff() !== undefined,
  });
  return client;
}

setDefaultClient(processClient);

/** The payload size limits of this process (configured, or from the environment). */
export function getLimits(): Limits {
  limits ??= limitsFromEnv();
  return limits;
}

/** The process's World, opened from the environment on first use. */
export function getWorld(): Promise<World> {
  if (worldPromise === undefined) {
    const opening = createWorldFromEnv();
    worldPromise = opening;
    // A World that failed to open (server down, wrong URL) is tried again by the next call.
    opening.catch(() => {
      if (worldPromise === opening) worldPromise = undefined;
    });
  }
  return worldPromise;
}

/**
 * The process's payload codec: encrypts with STEPWISE_ENCRYPTION_KEY, decrypts with it and
 * STEPWISE_ENCRYPTION_OLD_KEYS (`ConfigError` if one is malformed). Without a key it stores payloads
 * in clear and says so once on stderr, unless the World is the memory World (nothing is at rest).
 */
export function getPayloadCodec(): PayloadCodec {
  payloads ??= createPayloadCodec({ onPlaintext: noticePlaintextOnce });
  return payloads;
}

/** The key under which a World remembers that the plaintext notice was given. */
const PLAINTEXT_NOTICE_KEY = "plaintext-payloads";
let plaintextNoticed = false;
/** Settles once the plaintext notice is decided (said or not); `shutdown` waits for it. */
let plaintextNotice: Promise<void> | undefined;

/**
 * Says that payloads are stored in clear, once per storage rather than by every process: the
 * World records the notice (`notices.record`: once per data directory on the local World, per
 * database schema on postgres) and only the process that records it first says it. Never on the
 * memory World (nothing is at rest). A World without `notices` (a third-party one), or one that
 * fails to record, gets it once per process.
 */
function noticePlaintextOnce(): void {
  if (plaintextNoticed) return;
  plaintextNoticed = true;
  const say = (): void => {
    process.stderr.write(`${PLAINTEXT_NOTICE}\n`);
  };
  // The codec is asked first and the World opened right after (start() encodes the arguments,
  // then opens the World): decide once the caller has had the chance to open it.
  plaintextNotice = Promise.resolve().then(async () => {
    if (worldPromise === undefined) {
      if ((process.env.STEPWISE_WORLD?.trim() || "local") !== "memory") say();
      return;
    }
    let world: World;
    try {
      world = await worldPromise;
    } catch {
      return; // no World, nothing stored
    }
    if (world.name === "memory") return;
    if (typeof world.notices?.record !== "function") return say();
    try {
      if (await world.notices.record(PLAINTEXT_NOTICE_KEY)) say();
    } catch {
      say();
    }
  });
}

/**
 * The worker's module, loaded when a worker starts: it brings the sandbox and esbuild, which a
 * process that only starts and reads runs (the engine server, a client) never needs.
 */
function loadWorker(): Promise<typeof import("../runtime/worker.ts")> {
  return import("../runtime/worker.ts");
}

/** Starts `created` as the process's worker, ending gracefully with the process (`graceful-exit.ts`). */
function startInProcess(created: Worker): void {
  worker = created;
  created.start();
  removeExitGuard = guardExit({ worker: created, close: shutdown });
}

/** Starts the in-process worker if this process should have one. */
export async function ensureWorker(): Promise<void> {
  if (worker !== undefined || inProcessWorkerOff() !== undefined) return;
  if (!hasRegisteredWorkflows()) {
    waitingForWorkflows ??= onWorkflowsRegistered(() => {
      waitingForWorkflows?.();
      waitingForWorkflows = undefined;
      void ensureWorker();
    });
    return;
  }
  const at = epoch;
  const world = await getWorld();
  const { Worker } = await loadWorker();
  // A shutdown while this waited closed that World: the next use starts a worker afresh.
  if (worker !== undefined || at !== epoch) return;
  startInProcess(new Worker({ ...workerOptions, world, payloads: getPayloadCodec(), limits: getLimits() }));
}

/**
 * Starts the in-process worker limited to `runIds`: it claims and executes only those runs' work,
 * never another run's, however many wait (`npx stepwise start --wait` drives the run it started
 * and nothing else). For a process whose in-process worker is otherwise off (`inProcessWorker: false`);
 * a worker already running is left as it is.
 */
export async function driveOnly(runIds: readonly string[]): Promise<void> {
  const at = epoch;
  const world = await getWorld();
  const { Worker } = await loadWorker();
  if (worker !== undefined || at !== epoch) return;
  startInProcess(
    new Worker({ ...workerOptions, world, payloads: getPayloadCodec(), limits: getLimits(), runIds }),
  );
}

/** The in-process worker, if it runs. */
export function inProcessWorker(): Worker | undefined {
  return worker;
}

/**
 * Stops the in-process worker and closes the World (tests, orderly shutdown). The next use opens
 * the World and reads the encryption keys from the environment again.
 */
export async function shutdown(): Promise<void> {
  epoch += 1;
  const current = worker;
  worker = undefined;
  payloads = undefined;
  removeExitGuard?.();
  removeExitGuard = undefined;
  await current?.stop();
  await plaintextNotice;
  const world = worldPromise;
  worldPromise = undefined;
  if (world) await (await world).close();
}
