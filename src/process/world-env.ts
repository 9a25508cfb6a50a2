/**
 * Opens the World the environment asks for: STEPWISE_WORLD = local (default), memory, postgres
 * (STEPWISE_POSTGRES_URL, STEPWISE_POSTGRES_SCHEMA), `http(s)://host:port` (a Stepwise server, with
 * STEPWISE_HTTP_SECRET: the remote World), or a module specifier whose default export is
 * a World or a function returning one. The postgres World comes through `loadPostgres`, which says
 * what to install when its optional driver is missing.
 */
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors/runtime.ts";
import type { World } from "../world/types.ts";
import { createMemoryWorld } from "../worlds/memory/index.ts";
import { loadPostgres } from "../worlds/postgres-loader.ts";

type Env = Record<string, string | undefined>;

function isWorld(value: unknown): value is World {
  return (
    typeof value === "object" && value !== null && "events" in value && "runs" in value && "queue" in value
  );
}

async function fromModule(specifier: string): Promise<World> {
  const target =
    specifier.startsWith(".") || specifier.startsWith("/") ? pathToFileURL(specifier).href : specifier;
  let module: { default?: unknown };
  try {
    module = (await import(target)) as { default?: unknown };
  } catch (error) {
    throw new ConfigError(
      `STEPWISE_WORLD=${specifier} could not be imported (${(error as Error).message}). Use local, memory, postgres, the http(s):// URL of a Stepwise server, or a module whose default export makes a World.`,
      { cause: error },
    );
  }
  const made =
    typeof module.default === "function" ? await (module.default as () => unknown)() : module.default;
  if (!isWorld(made)) {
    throw new ConfigError(
      `The default export of STEPWISE_WORLD=${specifier} is not a World (or a function returning one).`,
    );
  }
  return made;
}

export async function createWorldFromEnv(env: Env = process.env): Promise<World> {
  const kind = env.STEPWISE_WORLD?.trim() || "local";
  switch (kind) {
    case "memory":
      return createMemoryWorld();
    case "local": {
      const { createLocalWorld } = await import("../worlds/local/index.ts");
      // STEPWISE_DATA_DIR, else `.stepwise` at the project root (worlds/local/data-dir.ts).
      const options: { dataDir?: string } = {};
      if (env.STEPWISE_DATA_DIR?.trim()) options.dataDir = env.STEPWISE_DATA_DIR;
      return createLocalWorld(options);
    }
    case "postgres": {
      const { createPostgresWorld } = await loadPostgres("STEPWISE_WORLD=postgres");
      const options: { connectionString?: string; schema?: string } = {};
      if (env.STEPWISE_POSTGRES_URL) options.connectionString = env.STEPWISE_POSTGRES_URL;
      if (env.STEPWISE_POSTGRES_SCHEMA) options.schema = env.STEPWISE_POSTGRES_SCHEMA;
      return createPostgresWorld(options);
    }
    default:
      if (/^https?:\/\//i.test(kind)) {
        const { createRemoteWorld } = await import("../worlds/remote/index.ts");
        return createRemoteWorld({ url: kind });
      }
      return fromModule(kind);
  }
}
