/**
 * Holding the process open while application code awaits a run: nothing else in the client keeps
 * the process alive (the World's and the worker's timers are unref'd), so `run.returnValue` in a
 * script takes a hold, and the last hold released lets the process end.
 */

let holds = 0;
let holdTimer: NodeJS.Timeout | undefined;

/** Keeps the process alive until the returned function is called (while a caller awaits a run). */
export function keepAlive(): () => void {
  holds += 1;
  if (holdTimer === undefined) holdTimer = setInterval(() => {}, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds -= 1;
    if (holds === 0 && holdTimer !== undefined) {
      clearInterval(holdTimer);
      holdTimer = undefined;
    }
  };
}
