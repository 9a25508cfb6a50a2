/**
 * What the durable agent's tests read straight from the run's SQLite World, as `npx stepwise
 * inspect` would: the decoded chunks of its stream and which steps completed (by step name).
 */
import { join } from "node:path";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

export function openProjectWorld(dir: string): World {
  return createLocalWorld({ dataDir: join(dir, ".stepwise") });
}

/** The run's default stream, decoded, and whether it is closed. */
export async function streamOf(
  world: World,
  runId: string,
): Promise<{ chunks: Record<string, unknown>[]; closed: boolean }> {
  const run = await world.runs.get(runId);
  const read = await world.streams.read(runId, "default", { limit: 10_000 });
  const info = await world.streams.info(runId, "default");
  const codec = createPayloadCodec();
  const place = places.streamChunk("default");
  return {
    chunks: read.chunks.map((c) => decodeValue(codec.decode(run, place, c.data)) as Record<string, unknown>),
    closed: info.closed,
  };
}

/** step name → how many times a completion was recorded (built-in stream writes left out). */
export async function completedSteps(world: World, runId: string): Promise<Record<string, number>> {
  const names = new Map<string, string>();
  const counts: Record<string, number> = {};
  for (const event of await world.events.list(runId)) {
    if (event.type === "step_started") names.set(event.data.stepId, event.data.stepName);
    if (event.type === "step_completed") {
      const name = (names.get(event.data.stepId) ?? "?").split("//").at(-1) ?? "?";
      if (name.startsWith("stream-")) continue;
      counts[name] = (counts[name] ?? 0) + 1;
    }
  }
  return counts;
}

/** Polls until `probe` gives a value (real processes take their time). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
