/**
 * Runs the World conformance suite against the remote World, over a real server process
 * (test/helpers/protocol-worlds.mjs serves the worker protocol for one World per test): every
 * World operation, error and notification goes through HTTP, which is what proves the protocol
 * complete.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { operations } from "../../src/protocol/operations.ts";
import { describeWorldConformance } from "../../src/world/testing/index.ts";
import { createRemoteWorld, protocolBase } from "../../src/worlds/remote/index.ts";

const SCRIPT = fileURLToPath(new URL("../helpers/protocol-worlds.mjs", import.meta.url));
const secret = randomBytes(24).toString("hex");
let server: ChildProcess | undefined;
let control = "";

beforeAll(async () => {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, STEPWISE_HTTP_SECRET: secret },
    stdio: ["ignore", "pipe", "inherit"],
  });
  server = child;
  control = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.once("exit", (code) => reject(new Error(`the protocol server exited (${code}) before listening`)));
  });
}, 30_000);

afterAll(async () => {
  try {
    // Every request and answer of the run matched the OpenAPI file, and every World operation was used.
    const report = (await (await fetch(`${control}/report`)).json()) as {
      violations: unknown[];
      calls: Record<string, number>;
    };
    expect(report.violations).toEqual([]);
    const worldOperations = Object.keys(operations).filter((key) => !/^(workers|tasks)/.test(key));
    expect(worldOperations.filter((key) => (report.calls[key] ?? 0) === 0)).toEqual([]);
  } finally {
    server?.kill("SIGKILL");
  }
});

// Behind the server: the memory World. (A SQLite World behind it passes too, but on the real clock
// its lease times move by a millisecond between reads, which the suite's exact comparisons see.)
function remoteConformance(kind: "memory" | "local"): void {
  describeWorldConformance(`remote (server on ${kind})`, async () => {
    const made = await fetch(`${control}/new?kind=${kind}`, { method: "POST" });
    const { url } = (await made.json()) as { url: string };
    const world = createRemoteWorld({ url, secret });
    const n = /\/w\/(\d+)\//.exec(url)?.[1];
    return {
      world,
      cleanup: async () => {
        await world.close();
        await fetch(`${control}/drop/${n}`, { method: "POST" });
      },
    };
  });
}

remoteConformance("memory");

// Beyond the suite (a storage World has no workers): the workflows live workers registered.
it("World.workers.workflows lists the workflows live workers registered, each once", async () => {
  const made = await fetch(`${control}/new?kind=memory`, { method: "POST" });
  const { url } = (await made.json()) as { url: string };
  const world = createRemoteWorld({ url, secret });
  try {
    expect(await world.workers?.workflows()).toEqual([]);
    for (const workflows of [
      [{ name: "workflow//app.workflows.report//report", version: "v1", digest: "d1" }],
      [
        { name: "workflow//app.workflows.report//report", version: "v2", digest: "d2" },
        { name: "workflow//b//b" },
      ],
    ]) {
      const response = await fetch(`${protocolBase(url)}/workers/register`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ language: "python", workflows }),
      });
      expect(response.status).toBe(200);
    }
    expect(await world.workers?.workflows()).toEqual([
      "workflow//app.workflows.report//report",
      "workflow//b//b",
    ]);
  } finally {
    await world.close();
    await fetch(`${control}/drop/${/\/w\/(\d+)\//.exec(url)?.[1]}`, { method: "POST" });
  }
});
