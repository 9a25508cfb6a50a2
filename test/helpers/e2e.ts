/**
 * What the real-process tests share: the World a test's processes and the test itself use (a
 * SQLite data directory, or a fresh database on a throwaway PostgreSQL server), a poll with a
 * deadline that returns what it waited for, and the output of a command that must succeed.
 */
import { join } from "node:path";
import { expect } from "vitest";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { type PostgresServer, startPostgres } from "./postgres.ts";
import type { NodeResult } from "./project.ts";

export interface E2eWorld {
  /** The World, opened by the test itself (to look at what the processes did). */
  world: World;
  /** The environment that points a process at the same World. */
  env: Record<string, string>;
  /** Closes the World and stops the PostgreSQL server, if any. */
  close(): Promise<void>;
}

/**
 * The World of kind `kind` for processes started in `dir`: local (a `.stepwise` data directory
 * in it, named relatively so every process finds it from there) or postgres (a database of its
 * own on a throwaway server).
 */
export async function openE2eWorld(kind: "local" | "postgres", dir: string): Promise<E2eWorld> {
  if (kind === "local") {
    const world = createLocalWorld({ dataDir: join(dir, ".stepwise") });
    return {
      world,
      env: { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" },
      close: () => world.close(),
    };
  }
  const server: PostgresServer = await startPostgres();
  const url = await server.createDatabase();
  const world = await createPostgresWorld({ connectionString: url });
  return {
    world,
    env: { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url },
    close: async () => {
      await world.close();
      await server.stop();
    },
  };
}

/** Polls `probe` until it returns a value, and returns it; throws naming `what` after `ms`. */
export async function pollFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The trimmed stdout of a command that must have succeeded (else the test fails with its stderr). */
export function ok(result: NodeResult): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}
