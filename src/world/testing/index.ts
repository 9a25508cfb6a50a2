/**
 * `stepwise-workflows/world/testing`: the World conformance suite, for anyone writing a World.
 * One call in a vitest test file registers every test of the contract (`docs/world.md`):
 *
 *   import { describeWorldConformance } from "stepwise-workflows/world/testing";
 *
 *   describeWorldConformance("mine", async () => {
 *     const world = createMyWorld();
 *     return { world, cleanup: () => world.close() };
 *   });
 *
 * `makeWorld` runs before every test and must return an EMPTY World; pass `clock` when the World
 * can read its time from the test (see `ConformanceClock`). The suite runs on vitest, an optional
 * peer dependency of the package: this entry checks it is installed before loading the suite, so a
 * missing vitest is one clear error rather than a module-resolution trace.
 */
import { ConfigError } from "../../errors/runtime.ts";
import type { MakeWorld } from "./harness.ts";

export type { ConformanceClock, MakeWorld, WorldUnderTest } from "./harness.ts";

try {
  await import("vitest");
} catch (error) {
  throw new ConfigError(
    "stepwise-workflows/world/testing runs the World conformance suite on vitest, which could not be loaded here " +
      `(${error instanceof Error ? error.message : String(error)}). Install it in the project that tests the World ` +
      "(npm install --save-dev vitest) and run the test file with vitest (npx vitest run).",
  );
}

const suite = await import("./suite.ts");

/**
 * Registers the World conformance suite, as a vitest `describe` named `World conformance: <name>`.
 * `makeWorld` runs before each test and returns a fresh, empty World (with an optional test clock
 * and a `cleanup` that closes it and removes what it left behind). Call it at the top level of a
 * vitest test file; every test of the contract then runs against your World.
 */
export function describeWorldConformance(name: string, makeWorld: MakeWorld): void {
  suite.describeWorldConformance(name, makeWorld);
}
