/**
 * `stepwise server [files…]`: the run API, the worker protocol, a health route and the dashboard
 * over the World from the environment, until SIGTERM or SIGINT. Workers anywhere then need only
 * its URL and secret (`STEPWISE_WORLD=http://host:port`, `STEPWISE_HTTP_SECRET`). Workflow files
 * given are loaded so that the run API can start their runs by name; the server itself executes
 * nothing. `stepwise web` is the same server for a person at this machine (`web.ts` decides its
 * defaults: loopback, a free port, a one-time secret when none is set).
 */
import { configure, shutdown } from "../../api/index.ts";
import { ConfigError } from "../../errors/runtime.ts";
import { MIN_SECRET_LENGTH, SECRET_ENV } from "../../http/auth.ts";
import { createWorldFromEnv } from "../../process/world-env.ts";
import { DEFAULT_PORT, startServer } from "../../server/server.ts";
import { note, UsageError } from "../output.ts";
import { untilStopSignal } from "../stop-signal.ts";

export interface ServerCommandOptions {
  port?: number;
  host?: string;
  /** `stepwise web`: the secret to use when STEPWISE_HTTP_SECRET is not set, and what to print. */
  web?: { secret: string | undefined; announce(url: string, secret: string): Promise<void> | void };
}

/** Where the World is, in words, for the startup line. */
function worldWhere(name: string): string {
  const env = process.env;
  if (name === "local") return `local World (SQLite in ${env.STEPWISE_DATA_DIR ?? ".stepwise"})`;
  if (name === "postgres") return "postgres World";
  return `${name} World`;
}

export async function run(files: string[], options: ServerCommandOptions): Promise<number> {
  const secret = options.web?.secret ?? process.env[SECRET_ENV];
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `npx stepwise server needs ${SECRET_ENV}: every route but /health is authenticated with it. Set it to a random secret of at least ${MIN_SECRET_LENGTH} characters (e.g. \`export ${SECRET_ENV}=$(openssl rand -hex 32)\`) and give workers the same value.`,
    );
  }
  configure({ inProcessWorker: false }); // the server executes nothing: workers do
  // The compiler loads only when there are files to compile.
  if (files.length > 0) await (await import("../../ops/load.ts")).loadWorkflowFiles(files);
  const world = await createWorldFromEnv();
  configure({ world });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      world,
      secret,
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.host === undefined ? {} : { host: options.host }),
    });
  } catch (error) {
    await world.close();
    const code = (error as { code?: string }).code;
    const where = `${options.host ?? "127.0.0.1"}:${options.port ?? DEFAULT_PORT}`;
    if (code === "EADDRINUSE") {
      throw new UsageError(
        `${where} is already in use by another program: choose another port with --port (0 picks a free one).`,
      );
    }
    if (code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw new UsageError(
        `cannot listen on ${where} (${code}): choose another --host or a --port above 1023.`,
      );
    }
    throw error;
  }
  if (options.web !== undefined) await options.web.announce(server.url, secret);
  else
    note(
      `stepwise server listening on ${server.url} over the ${worldWhere(world.name)}: dashboard at /, run API at /stepwise, worker protocol v1 at /stepwise/protocol/v1, health at /health. Workers: STEPWISE_WORLD=${server.url}`,
    );
  await untilStopSignal("finishing the requests in flight and closing the World");
  await server.close();
  await shutdown();
  note("stepwise server stopped.");
  return 0;
}
