/**
 * Runtime tests that run on every World: a fresh memory World, a local World on a real SQLite
 * file in a temp directory, or a postgres World in its own schema of one throwaway PostgreSQL
 * server per test file (started on first use; `stop()` it in `afterAll`). And `until`, which polls
 * a condition with a deadline.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { type PostgresServer, startPostgres } from "./postgres.ts";

export interface WorldEnv {
  world: World;
  cleanup(): void;
}

/** The Worlds by name, each made fresh per call; `prefix` names temp directories and schemas. */
export function everyWorld(prefix: string): {
  worlds: Record<"memory" | "local" | "postgres", () => Promise<WorldEnv>>;
  stop(): Promise<void>;
} {
  let server: PostgresServer | undefined;
  let schemas = 0;
  return {
    worlds: {
      memory: async () => ({ world: createMemoryWorld(), cleanup: () => undefined }),
      local: async () => {
        const dir = mkdtempSync(join(tmpdir(), `stepwise-${prefix}-`));
        return {
          world: createLocalWorld({ dataDir: dir }),
          cleanup: () => rmSync(dir, { recursive: true, force: true }),
        };
      },
      postgres: async () => {
        server ??= await startPostgres();
        const world = await createPostgresWorld({
          connectionString: server.url,
          schema: `${prefix}_${++schemas}`,
        });
        return { world, cleanup: () => undefined };
      },
    },
    stop: async () => {
      await server?.stop();
    },
  };
}

/** Resolves once `probe` holds; throws naming `what` after `ms`. */
export async function until(
  what: string,
  probe: () => boolean | Promise<boolean>,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
