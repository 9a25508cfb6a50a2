/**
 * `GET /runs/:runId/hooks`: the run's hooks and webhooks, in the order it created them, each with
 * its token, status and how many payloads it received (counted from the run's log, read a page
 * of 1000 events at a time). Resuming one is `POST /hooks/:token` (`hooks.ts`).
 */
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

const iso = (at: number | undefined): string | null => (at === undefined ? null : new Date(at).toISOString());

/** 200 `[{ token, hookId, kind, status, createdAt, disposedAt, receivedCount }]`; 404 for an unknown run. */
export async function listHooksRoute({ params, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const world = await options.client.world();
  const runId = params.runId ?? "";
  await world.runs.get(runId);
  const hooks = await world.hooks.list({ runId });
  const received = new Map<string, number>();
  for (let afterSeq = 0; ; ) {
    const events = await world.events.list(runId, { afterSeq, limit: 1000 });
    for (const event of events) {
      if (event.type === "hook_received")
        received.set(event.data.hookId, (received.get(event.data.hookId) ?? 0) + 1);
    }
    if (events.length < 1000) break;
    afterSeq = events.at(-1)?.seq ?? afterSeq;
  }
  return jsonResponse(
    200,
    hooks.map((hook) => ({
      token: hook.token,
      hookId: hook.hookId,
      kind: hook.kind,
      status: hook.status,
      createdAt: iso(hook.createdAt),
      disposedAt: iso(hook.disposedAt),
      receivedCount: received.get(hook.hookId) ?? 0,
    })),
  );
}
