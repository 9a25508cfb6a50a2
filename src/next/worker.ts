/**
 * Running the worker inside the Next.js server process, from `instrumentation.ts`:
 *
 *     export async function register() {
 *       if (process.env.NEXT_RUNTIME === "nodejs") {
 *         await import("./workflows/order");          // every workflow file the app runs
 *         const { startWorker } = await import("stepwise-workflows/next");
 *         await startWorker();
 *       }
 *     }
 *
 * Without it the worker still starts on the first use of the process's client (a `start()`, a
 * request to the run API), but runs left waiting by the previous server (a sleep that ended, a
 * crash mid-step) would wait for that first use.
 */

/**
 * Starts the process's in-process worker (on the World `STEPWISE_WORLD` names). If no workflow is
 * registered yet it starts as soon as one is; with `STEPWISE_WORKER=0` (or `configure({
 * inProcessWorker: false })`) it does nothing: the workers run elsewhere (`npx stepwise worker`).
 */
export async function startWorker(): Promise<void> {
  // Loaded here, so that next.config (which imports this package for withWorkflow) loads no runtime.
  const { ensureWorker, inProcessWorkerOff } = await import("../process/process.ts");
  if (inProcessWorkerOff() !== undefined) return;
  await ensureWorker();
}
