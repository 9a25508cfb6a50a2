import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, resumeHook, shutdown, start } from "../../src/api/index.ts";
import { registerStep, registerWorkflowBundle, workflowReference } from "../../src/runtime/registry.ts";
import { deserialize, registerClass, serialize, UnregisteredInstance } from "../../src/serde/classes.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { CASES } from "./cases.ts";
import { fingerprint, realmReport } from "./fidelity.ts";

const FILE = "test/serde/sandbox";
const seenByStep: { report: string; fingerprint: string }[] = [];

/** The host's Money; the sandbox bundle defines its own class under the same id. */
class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  static [serialize](value: Money) {
    return { cents: value.cents, currency: value.currency };
  }
  static [deserialize](data: { cents: bigint; currency: string }): Money {
    return new Money(data.cents, data.currency);
  }
}

/** Registered on the host only: workflow code never loads it. */
class HostOnly {
  constructor(readonly secret: string) {}
  static [serialize](value: HostOnly) {
    return value.secret;
  }
  static [deserialize](secret: string): HostOnly {
    return new HostOnly(secret);
  }
}

const SANDBOX_CODE = `(() => {
const __name = (target) => target;
const __r = globalThis[Symbol.for("stepwise.sandbox")].registrar;
const serde = globalThis[Symbol.for("stepwise.serde")];
const realmReport = ${realmReport.toString()};
const identity = __r.step("step//${FILE}//identity");
const addCents = __r.step("step//${FILE}//addCents");
class Money {
  constructor(cents, currency) { this.cents = cents; this.currency = currency; }
  plus(cents) { return new Money(this.cents + cents, this.currency); }
  static [serde.serialize](value) { return { cents: value.cents, currency: value.currency }; }
  static [serde.deserialize](data) { return new Money(data.cents, data.currency); }
}
serde.registerClass("test/serde//Money", Money);
class SandboxOnly {
  static [serde.serialize]() { return "made in the sandbox"; }
  static [serde.deserialize]() { return new SandboxOnly(); }
}
serde.registerClass("test/serde//SandboxOnly", SandboxOnly);
class NotRegistered { constructor() { this.x = 1; } }
__r.registerWorkflow("workflow//${FILE}//echo", async function echo(value) {
  const before = realmReport(value);
  const back = await identity(value);
  return { back, before, after: realmReport(back) };
});
__r.registerWorkflow("workflow//${FILE}//hooked", async function hooked(token) {
  const payload = await __r.api.createHook({ token });
  return { payload, report: realmReport(payload) };
});
__r.registerWorkflow("workflow//${FILE}//money", async function money(price) {
  const isMoney = price instanceof Money;
  const local = price.plus(1n);
  const fromStep = await addCents(local, 10n);
  return {
    isMoney,
    stepResultIsMoney: fromStep instanceof Money,
    total: fromStep.plus(100n),
    sandboxOnly: new SandboxOnly(),
  };
});
__r.registerWorkflow("workflow//${FILE}//passThrough", async function passThrough(opaque) {
  return { back: await identity(opaque), seenAs: String(opaque) };
});
__r.registerWorkflow("workflow//${FILE}//refuses", async function refuses() {
  try {
    await identity({ item: new NotRegistered() });
    return "sent";
  } catch (error) {
    return error.message;
  }
});
})();`;

const workflow = (name: string) => workflowReference<unknown[], unknown>(`workflow//${FILE}//${name}`);

beforeAll(() => {
  configure({ world: createMemoryWorld() });
  registerClass("test/serde//Money", Money);
  registerClass("test/serde//HostOnly", HostOnly);
  registerStep(`step//${FILE}//identity`, async (value: unknown) => {
    seenByStep.push({ report: realmReport(value), fingerprint: fingerprint(value) });
    return value;
  });
  registerStep(`step//${FILE}//addCents`, async (price: Money, cents: bigint) => {
    if (!(price instanceof Money)) throw new Error("the step did not get a Money");
    return new Money(price.cents + cents, price.currency);
  });
  registerWorkflowBundle({
    code: SANDBOX_CODE,
    filename: `${FILE}.workflows.js`,
    workflowIds: ["echo", "hooked", "money", "passThrough", "refuses"].map((n) => `workflow//${FILE}//${n}`),
  });
});

afterAll(async () => {
  await shutdown();
});

/**
 * What `realmReport` says in the sandbox for a value whose host report is `report`: the same,
 * except that URL, URLSearchParams and Headers are the host's own classes there (the sandbox passes
 * them through), so they are instances of those classes but not of the sandbox's `Object`.
 */
function inSandbox(report: string): string {
  return report.replace(/Object\+(URL|URLSearchParams|Headers)\b/g, "$1");
}

async function waitForHook(token: string, value: unknown): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await resumeHook(token, value);
      return;
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe("host → sandbox → host: every type", () => {
  for (const [name, make] of CASES) {
    it(name, async () => {
      const value = make();
      const expected = { fingerprint: fingerprint(value), report: realmReport(value) };
      seenByStep.length = 0;
      const run = await start(workflow("echo"), [value]);
      const result = (await run.returnValue) as { back: unknown; before: string; after: string };
      // In the sandbox: built from the sandbox's intrinsics, before and after the step.
      expect(result.before).toBe(inSandbox(expected.report));
      expect(result.after).toBe(inSandbox(expected.report));
      // In the step (host): the same value, of the host's intrinsics.
      expect(seenByStep).toEqual([expected]);
      // Back in the host: the same value, of the host's intrinsics.
      expect(fingerprint(result.back)).toBe(expected.fingerprint);
      expect(realmReport(result.back)).toBe(expected.report);
    });
  }
});

describe("hook payloads: resumeHook → inbox → sandbox", () => {
  const picks = [
    "Map (object keys, nested)",
    "Error with a cause chain",
    "everything nested",
    "-0",
    "undefined",
  ];
  for (const name of picks) {
    it(name, async () => {
      const make = CASES.find(([caseName]) => caseName === name)?.[1];
      if (make === undefined) throw new Error(`no case ${name}`);
      const value = make();
      const token = `fidelity-${name}`;
      const run = await start(workflow("hooked"), [token]);
      await waitForHook(token, value);
      const result = (await run.returnValue) as { payload: unknown; report: string };
      expect(result.report).toBe(inSandbox(realmReport(value)));
      expect(fingerprint(result.payload)).toBe(fingerprint(value));
    });
  }
});

describe("user classes across the boundary", () => {
  it("each side gets instances of its own class, through the static pair", async () => {
    const run = await start(workflow("money"), [new Money(1000n, "EUR")]);
    const result = (await run.returnValue) as {
      isMoney: boolean;
      stepResultIsMoney: boolean;
      total: Money;
      sandboxOnly: unknown;
    };
    expect(result.isMoney).toBe(true);
    expect(result.stepResultIsMoney).toBe(true);
    expect(result.total).toBeInstanceOf(Money);
    expect(result.total).toEqual(new Money(1111n, "EUR"));
    // A class only the sandbox knows reaches the host as an UnregisteredInstance with its data.
    expect(result.sandboxOnly).toBeInstanceOf(UnregisteredInstance);
    expect(result.sandboxOnly).toMatchObject({
      classId: "test/serde//SandboxOnly",
      data: "made in the sandbox",
    });
  });

  it("a class workflow code never loads passes through it unchanged, back to a step that knows it", async () => {
    seenByStep.length = 0;
    const run = await start(workflow("passThrough"), [new HostOnly("s3cr3t")]);
    const result = (await run.returnValue) as { back: HostOnly; seenAs: string };
    expect(result.seenAs).toBe('[HostOnly: class "test/serde//HostOnly" is not registered here]');
    expect(seenByStep[0]?.fingerprint).toBe(fingerprint(new HostOnly("s3cr3t")));
    expect(result.back).toBeInstanceOf(HostOnly);
    expect(result.back.secret).toBe("s3cr3t");
  });

  it("workflow code passing an instance of an unregistered class gets an error naming the class", async () => {
    const run = await start(workflow("refuses"), []);
    const message = (await run.returnValue) as string;
    expect(message).toContain(`The arguments of step step//${FILE}//identity cannot be serialized`);
    expect(message).toContain("the value at [0].item cannot be serialized");
    expect(message).toContain(
      "an instance of class NotRegistered, which has no static [serialize]/[deserialize] pair",
    );
  });
});

describe("per-run classes in a shared realm", () => {
  // Runs of one bundle share a realm, and each run evaluates the bundle afresh, so each run has its
  // own Money class. Decoding a delivery must use the classes of the run it is delivered to.
  it("a run that waits while another run loads the bundle still gets instances of its own class", async () => {
    const first = await start(workflow("money"), [new Money(1n, "EUR")]);
    const second = await start(workflow("money"), [new Money(2n, "EUR")]);
    const results = (await Promise.all([first.returnValue, second.returnValue])) as {
      stepResultIsMoney: boolean;
    }[];
    expect(results.map((r) => r.stepResultIsMoney)).toEqual([true, true]);
  });
});
