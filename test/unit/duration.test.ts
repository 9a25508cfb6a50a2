import { describe, expect, it } from "vitest";
import { InvalidDurationError } from "../../src/errors/index.ts";
import { parseDurationMs, resolveDeadline } from "../../src/util/duration.ts";

describe("durations", () => {
  it("reads the formats the seeds document", () => {
    expect(parseDurationMs("10s")).toBe(10_000);
    expect(parseDurationMs("5m")).toBe(300_000);
    expect(parseDurationMs("2h")).toBe(7_200_000);
    expect(parseDurationMs("7 days")).toBe(604_800_000);
    expect(parseDurationMs(1500)).toBe(1500);
  });

  it("resolves a Date to itself and a relative duration from now", () => {
    expect(resolveDeadline(new Date(5000), 1000)).toBe(5000);
    expect(resolveDeadline("1s", 1000)).toBe(2000);
  });

  it.each(["", "abc", "-5s", "10 parsecs", Number.NaN, -1, Number.POSITIVE_INFINITY])(
    "rejects %j with a typed error that says what is accepted",
    (value) => {
      let caught: unknown;
      try {
        parseDurationMs(value as string | number);
      } catch (error) {
        caught = error;
      }
      expect(InvalidDurationError.is(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/Use milliseconds/);
    },
  );

  it("rejects an invalid Date", () => {
    expect(() => resolveDeadline(new Date("nope"), 0)).toThrow(InvalidDurationError);
  });
});
