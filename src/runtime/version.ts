/**
 * The replay and storage format version. A run records the version it was created with; a worker
 * leaves runs from newer versions alone instead of misreading them. Raise it only together with a
 * replay-compatibility fixture of the old format (see test/replay-compat).
 */
export const SPEC_VERSION = 5;

/*
 * History:
 * 1  the first format.
 * 2  encrypted payloads are bound to their place in the run (envelope 0x03); a run records at
 *    creation whether it is encrypted, and refuses plain and 0x02 payloads if it is.
 * 3  events: `event_wait_created`, `event_received` (a payload at the place
 *    `event:<eventId>:payload:<type>`) and `event_wait_timed_out` in the log, replayed as a call
 *    and its outcome (`waitForEvent`). A worker of version 2 would not know them: it leaves these
 *    runs alone.
 * 4  restarts: `run_restarted` begins a new generation of the log after the previous one's end,
 *    keeping the calls below its `fromCall` with all their outcomes; calls of generation 2 and
 *    later derive their ids with the generation mixed in. A worker of version 3 would replay a
 *    restarted log as one generation: it leaves these runs alone. Pauses: `run_pausing`,
 *    `run_paused` and `run_resumed` (statuses `pausing` and `paused`), which a replay passes over;
 *    a worker of version 3 would not honour a pause. Both are controls applied to runs of any
 *    version: a rollout should finish before they are used on runs older workers may take.
 *    Pinned code: `run_created` and `run_started` may name the run's workflow bundle
 *    (`bundleHash`); a worker of version 3 ignores it and replays with its own code, as before.
 * 5  new events that a worker of version 4 does not know (it leaves version-5 runs alone):
 *    - upgrades: `run_upgraded { fromHash?, toHash }` (`npx stepwise upgrade`) moves a run to
 *      another version of its workflow code once its log replayed cleanly against it; a replay
 *      passes over it, and the run replays with `toHash` from then on (the latest run_created,
 *      run_started or run_upgraded naming a bundle wins; `RunRecord.bundleHash` keeps it). A
 *      version-4 worker would replay it with the code it was pinned to before, so the World
 *      raises an upgraded run's `specVersion` to 5 (`UPGRADED_SPEC_VERSION`, world/events.ts).
 *      The spec version also decides how payloads are read (0x02 envelopes only below 2): runs
 *      older than 2 are not upgraded.
 *    - code that is missing: `step_unavailable { stepId, stepName }` records that a worker without
 *      the step a run calls (a deploy removed or renamed it) handed the run back to wait for one
 *      that has it. A replay passes over it, as a version-4 worker would: it is only information.
 */
