/**
 * `GET /health`: whether the handler's client's World answers (a one-row read, bounded in time)
 * and what the process's in-process worker is doing (for the process's client; a client of its
 * own executes nothing here). 200 when the World is reachable, 503 when it is not.
 */
import { listWorkflows } from "../../api/index.ts";
import type { Client } from "../../client/client.ts";
import { inProcessWorker, inProcessWorkerOff, processClient } from "../../process/process.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** How long the World gets to answer before it counts as unreachable. */
const WORLD_TIMEOUT_MS = 5_000;

interface WorldHealth {
  reachable: boolean;
  name?: string;
  latencyMs?: number;
  error?: string;
}

async function probeWorld(client: Client): Promise<WorldHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${WORLD_TIMEOUT_MS} ms`)),
        WORLD_TIMEOUT_MS,
      );
    });
    const world = await Promise.race([client.world(), timeout]);
    await Promise.race([world.runs.list({ limit: 1 }), timeout]);
    return { reachable: true, name: world.name, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { reachable: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function workerHealth(client: Client): Record<string, unknown> {
  if (client !== processClient()) {
    return {
      running: false,
      reason:
        "this handler's client executes nothing in this process: workers sharing its World run its runs",
    };
  }
  const worker = inProcessWorker();
  if (worker !== undefined) {
    return { running: true, activeRuns: worker.activeRuns, cachedRuns: worker.cachedRuns };
  }
  const off = inProcessWorkerOff();
  const reason =
    off === "environment"
      ? "STEPWISE_WORKER=0: this process only starts and reads runs"
      : off === "configured"
        ? "configure({ inProcessWorker: false }): this process only starts and reads runs"
        : "not started yet (it starts with the first run API call of a process that has workflows registered)";
  return { running: false, reason };
}

/** 200 `{ ok: true, world, worker, workflows }`, or 503 with `ok: false` when the World does not answer. */
export async function health({ options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const world = await probeWorld(options.client);
  const body = {
    ok: world.reachable,
    world,
    worker: workerHealth(options.client),
    workflows: listWorkflows().length,
  };
  return jsonResponse(world.reachable ? 200 : 503, body);
}
