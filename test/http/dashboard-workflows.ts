/**
 * Workflows the dashboard route tests run (defined without the compiler, test/helpers/workflows.ts):
 * one with a step that fails twice before it succeeds, a sleep, a hook and an event wait, and
 * one whose step fails for good with a stack. The flaky step prints a line per try (step logs).
 */
import { FatalError } from "../../src/errors/user.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const tries = new Map<string, number>();

const flaky = Object.assign(
  async (key: string) => {
    const n = (tries.get(key) ?? 0) + 1;
    tries.set(key, n);
    console.log(`flaky try ${n} for ${key}`); // its stored output: GET /events shows only its size
    if (n < 3) throw new Error(`flaky failure ${n}`);
    return { key, tries: n, at: new Date(0) };
  },
  { retries: { delay: "20ms", backoff: "constant" as const } },
);

export const dash = defineWorkflows("test/http/dashboard-workflows.ts", {
  steps: {
    flaky,
    double: async (n: number) => n * 2,
    explode: async (what: string) => {
      throw new FatalError(`exploded: ${what}`);
    },
  },
  workflows: {
    story: ({ steps, api }) =>
      async function story(key: string, token: string) {
        const first = await steps.flaky(key);
        await api.sleep("30ms");
        const hook = api.createHook<{ approved: boolean }>({ token });
        const approval = await hook;
        const event = await api.waitForEvent("dash.go", { timeout: "1h" });
        const doubled = await steps.double(first.tries);
        return { approval, event: event.payload, doubled };
      },
    broken: ({ steps }) =>
      async function broken(what: string) {
        return await steps.explode(what);
      },
  },
});
