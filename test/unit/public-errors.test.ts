/**
 * The error classes a user can meet are reachable from the package's public entries: every class
 * in `src/errors/` from `stepwise-workflows` (where host code catches them), and every class of the
 * World's error contract from `stepwise-workflows/world` (where a World's author throws them), the
 * same classes, not copies, so `instanceof` and `static is()` agree whichever entry was imported.
 */
import { describe, expect, it } from "vitest";
import * as base from "../../src/errors/base.ts";
import * as control from "../../src/errors/control.ts";
import * as events from "../../src/errors/events.ts";
import * as restart from "../../src/errors/restart.ts";
import * as runtime from "../../src/errors/runtime.ts";
import * as step from "../../src/errors/step.ts";
import * as user from "../../src/errors/user.ts";
import * as worldErrors from "../../src/errors/world.ts";
import * as root from "../../src/index.ts";
import * as world from "../../src/world/index.ts";

const StepwiseError = base.StepwiseError;
const errors: Record<string, unknown> = {
  ...base,
  ...control,
  ...events,
  ...restart,
  ...runtime,
  ...step,
  ...user,
  ...worldErrors,
};

/** Every error class `src/errors/*.ts` defines, by name. */
const errorClasses = Object.entries(errors).filter(
  ([, value]) =>
    typeof value === "function" && (value === StepwiseError || value.prototype instanceof StepwiseError),
);

/** What a World may throw (`World` in src/world/types.ts documents each). */
const WORLD_CONTRACT = [
  "StepwiseError",
  "NotFoundError",
  "RunNotFoundError",
  "HookNotFoundError",
  "ConflictError",
  "SequenceConflictError",
  "HookTokenConflictError",
  "RunIdConflictError",
  "ImportConflictError",
  "RunFinishedError",
  "LeaseLostError",
  "PayloadTooLargeError",
  "WorldUnavailableError",
  "WorldBusyError",
  "WorldStorageError",
  "WorldCorruptError",
];

describe("public error classes", () => {
  it("finds the error classes of src/errors", () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(40);
  });

  it("exports every error class from stepwise-workflows", () => {
    const exported = root as Record<string, unknown>;
    const missing = errorClasses.filter(([name, value]) => exported[name] !== value).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it("exports the World's error contract from stepwise-workflows/world", () => {
    const exported = world as Record<string, unknown>;
    const missing = WORLD_CONTRACT.filter((name) => {
      const value = errors[name];
      return value === undefined || exported[name] !== value;
    });
    expect(missing).toEqual([]);
    // Every World error class is there, and no error class that is not the World's.
    const exportedErrors = Object.entries(world)
      .filter(([, value]) => typeof value === "function" && value.prototype instanceof Error)
      .map(([name]) => name)
      .sort();
    expect(exportedErrors).toEqual([...WORLD_CONTRACT].sort());
    // Every class of src/errors/world.ts belongs to the contract.
    for (const name of Object.keys(worldErrors)) expect(WORLD_CONTRACT).toContain(name);
  });
});
