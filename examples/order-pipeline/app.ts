/**
 * Runs the demo: starts an order, shows its progress, and when it waits for approval prints the
 * command a human would run. With --auto-approve (what `npm run demo` passes) it runs that command
 * itself after a moment, through the real CLI.
 *
 *   node --import stepwise-workflows/register examples/order-pipeline/app.ts [--auto-approve]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getHookByToken, start } from "stepwise-workflows/api";
import { processOrder } from "./workflows/order.ts";

const order = {
  id: `order-${Date.now().toString(36)}`,
  items: [
    { sku: "tea-earl-grey", quantity: 2, price: 6.5 },
    { sku: "mug-blue", quantity: 1, price: 12 },
  ],
};

console.log(`Stepwise demo: processing ${order.id} on the ${process.env.STEPWISE_WORLD ?? "local"} World\n`);
const run = await start(processOrder, [order]);
console.log(`  started run ${run.runId}`);

const token = `approve:${order.id}`;
const payload = JSON.stringify({ approved: true, by: "demo-operator" });
// Wait for the workflow to reach its approval hook (after the retries and the 2 s sleep).
for (;;) {
  const hook = await getHookByToken(token).catch(() => undefined);
  if (hook) break;
  if ((await run.status) !== "running" && (await run.status) !== "pending") break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
console.log(
  `\n  waiting for approval. A human approves with:\n    npx stepwise resume ${token} '${payload}'\n`,
);

if (process.argv.includes("--auto-approve")) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cli = fileURLToPath(new URL("../../dist/cli/index.js", import.meta.url));
  console.log(`  (auto-approving) $ stepwise resume ${token} '${payload}'`);
  process.stdout.write(
    `  ${execFileSync(process.execPath, [cli, "resume", token, payload], { encoding: "utf8" })}`,
  );
}

const result = await run.returnValue;
console.log(`\n  run ${run.runId} completed: ${JSON.stringify(result)}`);
console.log(`\n  Look at it: npm run stepwise -- inspect steps ${run.runId}`);
