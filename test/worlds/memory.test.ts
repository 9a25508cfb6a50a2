/**
 * Runs the World conformance suite against the memory World: once on a clock the tests drive, and
 * once on the real clock (the way a World without a controllable clock runs the suite).
 */

import { describeWorldConformance } from "../../src/world/testing/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";

describeWorldConformance("memory", async () => {
  let time = 1_700_000_000_000;
  const world = createMemoryWorld({ now: () => time });
  return {
    world,
    clock: {
      now: () => time,
      advance: (ms) => {
        time += ms;
      },
    },
    cleanup: () => world.close(),
  };
});

describeWorldConformance("memory (real clock)", async () => {
  const world = createMemoryWorld();
  return { world, cleanup: () => world.close() };
});
