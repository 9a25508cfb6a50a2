/**
 * The workers a server knows: each registered with its language, the workflows it has (with their
 * versions) and its steps, and refreshed by every task lease it asks for. A worker not heard from
 * for `WORKER_TTL_MS` is forgotten (it registers again when it comes back). Kept in the server's
 * memory: a restarted server hears from its workers again within one long poll, and an unknown
 * worker id is answered with WORKER_NOT_FOUND, which makes the worker register again.
 */
import { randomBytes } from "node:crypto";
import { ProtocolError } from "../protocol/errors.ts";

/** A worker not heard from for this long is forgotten. */
export const WORKER_TTL_MS = 60_000;

export interface WorkerWorkflow {
  name: string;
  version?: string;
  digest?: string;
}

export interface RegisteredWorker {
  workerId: string;
  language: string;
  label?: string;
  workflows: WorkerWorkflow[];
  steps: string[];
  registeredAt: number;
  lastSeenAt: number;
}

export interface Registration {
  language: string;
  label?: string;
  workflows: WorkerWorkflow[];
  steps?: string[];
}

export class WorkerRegistry {
  readonly #workers = new Map<string, RegisteredWorker>();

  /** Forgets workers not heard from for `WORKER_TTL_MS`. */
  #sweep(now: number): void {
    for (const [id, worker] of this.#workers) {
      if (now - worker.lastSeenAt > WORKER_TTL_MS) this.#workers.delete(id);
    }
  }

  /**
   * Registers a worker. A workflow version (name and version) that a live worker registered with
   * another digest is different code under one version: refused with 409
   * WORKFLOW_VERSION_CONFLICT, and nothing is registered.
   */
  register(registration: Registration, now = Date.now()): RegisteredWorker {
    this.#sweep(now);
    for (const workflow of registration.workflows) {
      if (workflow.version === undefined || workflow.digest === undefined) continue;
      for (const other of this.#workers.values()) {
        const theirs = other.workflows.find(
          (w) => w.name === workflow.name && w.version === workflow.version,
        );
        if (theirs?.digest !== undefined && theirs.digest !== workflow.digest) {
          throw new ProtocolError(
            409,
            "WORKFLOW_VERSION_CONFLICT",
            `Worker ${other.workerId} (${other.language}) has workflow ${workflow.name} version ${workflow.version} with code digest ${theirs.digest}, and this worker has it with digest ${workflow.digest}: two different codes under one version would replay runs differently. Give the changed code a new version, or stop the worker with the other code first.`,
          );
        }
      }
    }
    const worker: RegisteredWorker = {
      workerId: `worker_${randomBytes(10).toString("hex")}`,
      language: registration.language,
      ...(registration.label === undefined ? {} : { label: registration.label }),
      workflows: registration.workflows.map((w) => ({ ...w })),
      steps: [...(registration.steps ?? [])],
      registeredAt: now,
      lastSeenAt: now,
    };
    this.#workers.set(worker.workerId, worker);
    return worker;
  }

  /** The worker with this id, refreshed; WORKER_NOT_FOUND (404) when unknown or forgotten. */
  touch(workerId: string, now = Date.now()): RegisteredWorker {
    // Only this worker's own silence matters here: every lease comes through, so no sweep of all.
    let worker = this.#workers.get(workerId);
    if (worker !== undefined && now - worker.lastSeenAt > WORKER_TTL_MS) {
      this.#workers.delete(workerId);
      worker = undefined;
    }
    if (worker === undefined) {
      throw new ProtocolError(
        404,
        "WORKER_NOT_FOUND",
        `No worker ${workerId} is registered here (the server restarted, or the worker was silent for more than ${WORKER_TTL_MS / 1000} s). Register again (workers/register) and use the new workerId.`,
      );
    }
    worker.lastSeenAt = now;
    return worker;
  }

  /** The full ids of the workflows live workers registered, sorted, each once. */
  workflows(now = Date.now()): string[] {
    const names = new Set<string>();
    for (const worker of this.list(now)) for (const workflow of worker.workflows) names.add(workflow.name);
    return [...names].sort();
  }

  /** The live workers, oldest registration first. */
  list(now = Date.now()): RegisteredWorker[] {
    this.#sweep(now);
    return [...this.#workers.values()];
  }
}

/**
 * The code versions a worker can replay, for its task leases (`QueueFilter.versions`): those of
 * its workflows when every one names a version (a Python worker: a hash of its workflow code), so
 * it is only handed runs pinned to one of them or not pinned yet; undefined when any workflow
 * names none (the worker replays whatever version a run is pinned to, as a TypeScript worker
 * does with the bundles stored in the World).
 */
export function registeredVersions(worker: Pick<RegisteredWorker, "workflows">): string[] | undefined {
  if (worker.workflows.length === 0) return undefined;
  const versions = new Set<string>();
  for (const workflow of worker.workflows) {
    if (workflow.version === undefined) return undefined;
    versions.add(workflow.version);
  }
  return [...versions];
}
