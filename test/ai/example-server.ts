/**
 * Starts the example's server (examples/agent/server.ts) as a real process on the local SQLite
 * World, in a temp directory of its own, with the mock model streaming `delay` ms per chunk.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REGISTER, REPO, spawnNode } from "../helpers/project.ts";
import { waitFor } from "./world-view.ts";

export interface ExampleServer {
  url: string;
  dir: string;
  /** The lines the example's mocks appended to their log. */
  log(): string[];
  stop(): void;
}

export async function startExampleServer(delay: number): Promise<ExampleServer> {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-agent-example-"));
  const server = spawnNode(["--import", REGISTER, "examples/agent/server.ts"], REPO, {
    PORT: "0",
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: join(dir, "data"),
    STEPWISE_CACHE_DIR: join(dir, "cache"),
    AGENT_LOG: join(dir, "agent.log"),
    DEMO_CHUNK_DELAY: String(delay),
  });
  const url = await waitFor("the example server", async () => {
    if (server.child.exitCode !== null) throw new Error(`the example server exited: ${server.output.stderr}`);
    return /listening on (http:\/\/\S+)/.exec(server.output.stdout)?.[1];
  });
  return {
    url,
    dir,
    log: () => {
      try {
        return readFileSync(join(dir, "agent.log"), "utf8").split("\n").filter(Boolean);
      } catch {
        return [];
      }
    },
    stop: () => {
      server.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
