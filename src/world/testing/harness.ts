/**
 * The conformance suite's contract with the World under test: how to make a fresh World for each test
 * and, optionally, a clock the test controls. With a clock, time-dependent tests (leases, delayed
 * messages) run instantly and can assert exact timestamps; without one (a World whose clock is its
 * database's), they wait a few hundred milliseconds of real time and assert timestamps loosely.
 */
import { afterEach, beforeEach } from "vitest";
import type { World } from "../types.ts";

/** A clock the test drives: the World under test must read its time from `now()`. */
export interface ConformanceClock {
  now(): number;
  advance(ms: number): void;
}

export interface WorldUnderTest {
  /** An EMPTY World (no runs, messages, hooks): the tests count what they find. */
  world: World;
  clock?: ConformanceClock;
  /** Closes the World (the test may have closed it already) and removes whatever it left behind. */
  cleanup(): Promise<void>;
}

export type MakeWorld = () => Promise<WorldUnderTest>;

/** What each test sees: the current test's World and its time. */
export interface WorldContext {
  readonly world: World;
  /** True when the World runs on a clock the test controls. */
  readonly fakeClock: boolean;
  now(): number;
  /** Moves time forward: instantly with a test clock, by sleeping otherwise. */
  advance(ms: number): Promise<void>;
  /**
   * Asserts a timestamp the World computed: exactly with a test clock, within a second otherwise
   * (the World may use its own clock).
   */
  expectTime(actual: number | undefined, expected: number): void;
}

/** A lease or delay that must not run out during a test. */
export const LONG = 600_000;
/** A lease or delay the test lets run out (by `advance(SHORT + TICK)`). */
export const SHORT = 500;
/** A little more than nothing: advancing by SHORT + TICK passes a SHORT deadline. */
export const TICK = 100;

/** Registers per-test setup and teardown and returns the context the tests read. */
export function useWorld(makeWorld: MakeWorld): WorldContext {
  let current: WorldUnderTest | undefined;
  beforeEach(async () => {
    current = await makeWorld();
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.cleanup();
  });
  const active = (): WorldUnderTest => {
    if (!current) throw new Error("No World: the conformance context is only usable inside a test.");
    return current;
  };
  return {
    get world() {
      return active().world;
    },
    get fakeClock() {
      return active().clock !== undefined;
    },
    now() {
      return active().clock?.now() ?? Date.now();
    },
    async advance(ms) {
      const clock = active().clock;
      if (clock) clock.advance(ms);
      else await new Promise((resolve) => setTimeout(resolve, ms));
    },
    expectTime(actual, expected) {
      if (actual === undefined) throw new Error(`Expected a timestamp near ${expected}, got undefined.`);
      if (active().clock) {
        if (actual !== expected) throw new Error(`Expected timestamp ${expected}, got ${actual}.`);
      } else if (Math.abs(actual - expected) > 1000) {
        throw new Error(`Expected a timestamp within 1 s of ${expected}, got ${actual}.`);
      }
    },
  };
}
