/**
 * The process-wide runtime behind `stepwise-workflows/api`: one World (opened from the environment on first
 * use, or set with `configure`), the payload codec, and the in-process worker, which starts with the
 * first `start()`, `getRun()` or `resumeHook()` of a process that has workflows registered, unless
 * STEPWISE_WORKER=0 (or, with `driveOnly`, limited to the runs a process started). The worker ends
 * gracefully with the process (`graceful-exit.ts`: on SIGINT / SIGTERM and at the end of a
 * script its running steps finish and its runs are handed back). Nothing here keeps the process
 * alive by itself; `keepAlive()` is taken only while application code awaits a run.
 */
import { PLAINTEXT_NOTICE } from "../serde/keys.ts";
import { createPayloadCodec, type PayloadCodec } from "../serde/payload.ts";
import type { World } from "../world/types.ts";
import { guardExit } from "./graceful-exit.ts";
import { type Limits, limitsFromEnv } from "./limits.ts";
import { hasRegisteredWorkflows, onWorkflowsRegistered } from "./registry.ts";
import { Worker, type WorkerOptions } from "./worker.ts";
import { createWorldFromEnv } from "./world-env.ts";

let worldPromise: Promise<World> | undefined;
let payloads: PayloadCodec | undefined;
let worker: Worker | undefined;
let workerOptions: Omit<WorkerOptions, "world"> = {};
let waitingForWorkflows: (() => void) | undefined;
let removeExitGuard: (() => void) | undefined;
let limits: Limits | undefined;
let holds = 0;
let holdTimer: NodeJS.Timeout | undefined;

export interface ConfigureOptions {
  /** Use this World instead of the one STEPWISE_WORLD names. */
  world?: World;
  /** Payload size limits instead of STEPWISE_MAX_PAYLOAD_BYTES / STEPWISE_MAX_RUN_BYTES. */
  limits?: Limits;
  /** Options for the in-process worker. */
  worker?: Omit<WorkerOptions, "world">;
}

/** Sets the World and worker options before first use (embedding, tests). */
export function configure(options: ConfigureOptions): void {
  if (options.world) worldPromise = Promise.resolve(options.world);
  if (options.worker) workerOptions = options.worker;
  if (options.limits) limits = options.limits;
}

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

/** Starts `created` as the process's worker, ending gracefully with the process (`graceful-exit.ts`). */
function startInProcess(created: Worker): void {
  worker = created;
  created.start();
  removeExitGuard = guardExit({ worker: created, close: shutdown });
}

/** Starts the in-process worker if this process should have one. */
export async function ensureWorker(): Promise<void> {
  if (worker !== undefined || process.env.STEPWISE_WORKER === "0") return;
  if (!hasRegisteredWorkflows()) {
    waitingForWorkflows ??= onWorkflowsRegistered(() => {
      waitingForWorkflows?.();
      waitingForWorkflows = undefined;
      void ensureWorker();
    });
    return;
  }
  const world = await getWorld();
  if (worker !== undefined) return;
  startInProcess(new Worker({ ...workerOptions, world, payloads: getPayloadCodec(), limits: getLimits() }));
}

/**
 * Starts the in-process worker limited to `runIds`: it claims and executes only those runs' work,
 * never another run's, however many wait (`npx stepwise start --wait` drives the run it started
 * and nothing else). For a process whose in-process worker is otherwise off (STEPWISE_WORKER=0);
 * a worker already running is left as it is.
 */
export async function driveOnly(runIds: readonly string[]): Promise<void> {
  const world = await getWorld();
  if (worker !== undefined) return;
  startInProcess(
    new Worker({ ...workerOptions, world, payloads: getPayloadCodec(), limits: getLimits(), runIds }),
  );
}

/** The in-process worker, if it runs. */
export function inProcessWorker(): Worker | undefined {
  return worker;
}

/** Keeps the process alive until the returned function is called (while a caller awaits a run). */
export function keepAlive(): () => void {
  holds += 1;
  if (holdTimer === undefined) holdTimer = setInterval(() => {}, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds -= 1;
    if (holds === 0 && holdTimer !== undefined) {
      clearInterval(holdTimer);
      holdTimer = undefined;
    }
  };
}

/**
 * Stops the in-process worker and closes the World (tests, orderly shutdown). The next use opens
 * the World and reads the encryption keys from the environment again.
 */
export async function shutdown(): Promise<void> {
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
