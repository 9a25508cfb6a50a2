/**
 * User classes end to end, in real processes of a fresh project: a class declared in a file without
 * directives, with the static serialize / deserialize pair, is registered by the compiler in host
 * code and in the workflow sandbox, so the workflow, the step and the application each get
 * instances of their own realm's class — through `node --import stepwise-workflows/register` and through an
 * ahead-of-time build run with plain node. A class without the pair fails `start()` with an error
 * naming it. (These tests load `dist/`: run `npm run build` first.)
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, npxStepwise, type Project, REGISTER, runNode } from "../helpers/project.ts";

const FILES: Record<string, string> = {
  "lib/money.ts": `
import { deserialize, serialize } from "stepwise-workflows";

export class Money {
  constructor(readonly cents: bigint, readonly currency: string) {}
  plus(cents: bigint): Money {
    return new Money(this.cents + cents, this.currency);
  }
  static [serialize](money: Money) {
    return { cents: money.cents, currency: money.currency };
  }
  static [deserialize](data: { cents: bigint; currency: string }): Money {
    return new Money(data.cents, data.currency);
  }
}

export class Customer {
  constructor(readonly name: string) {}
}
`,
  "workflows/pay.ts": `
import { Money } from "../lib/money.ts";

async function addFee(price: Money): Promise<Money> {
  "use step";
  if (!(price instanceof Money)) throw new Error("the step did not get a Money");
  return price.plus(30n);
}

export async function pay(price: Money) {
  "use workflow";
  if (!(price instanceof Money)) throw new Error("the workflow did not get a Money");
  const total = await addFee(price.plus(1n));
  return { total, inWorkflow: total instanceof Money };
}
`,
  "app.ts": `
import { start } from "stepwise-workflows/api";
import { Customer, Money } from "./lib/money.ts";
import { pay } from "./workflows/pay.ts";

const run = await start(pay, [new Money(100n, "EUR")]);
const { total, inWorkflow } = await run.returnValue;
console.log(JSON.stringify({ inWorkflow, inApp: total instanceof Money, total: total.plus(0n).cents.toString() }));
try {
  await start(pay, [new Customer("ada")]);
} catch (error) {
  console.log(error.message);
}
`,
};

let project: Project;
beforeAll(() => {
  if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run npm run build first.`);
  project = makeProject(FILES);
});
afterAll(() => project.remove());

function check(result: { code: number | null; stdout: string; stderr: string }): void {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const [json, message] = result.stdout.trim().split("\n");
  expect(JSON.parse(json ?? "")).toEqual({ inWorkflow: true, inApp: true, total: "131" });
  expect(message).toContain("The arguments for workflow//workflows/pay.ts//pay cannot be serialized");
  expect(message).toContain("the value at [0] cannot be serialized (it is an instance of class Customer");
}

describe("serializable classes in a real project", () => {
  it("with node --import stepwise-workflows/register", async () => {
    check(await runNode(["--import", REGISTER, "app.ts"], project.dir));
  });

  it("built ahead of time and run with plain node", async () => {
    const built = await npxStepwise(["build", "app.ts", "--out-dir", "build"], project.dir);
    expect(built.code, built.stderr).toBe(0);
    check(await runNode(["build/app.js"], project.dir));
  });
});
