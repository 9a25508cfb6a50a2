// Runs the Stepwise worker inside the Next.js server: it loads the workflow files, then starts
// the worker, so runs that were waiting when the server last stopped go on at once.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    await import("./workflows/order");
    const { startWorker } = await import("stepwise-workflows/next");
    await startWorker();
  }
}
