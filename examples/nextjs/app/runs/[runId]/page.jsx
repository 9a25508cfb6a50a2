// A run's page: its progress, read live from the durable stream, and the approval button.
import { getRun } from "stepwise-workflows/api";
import { Progress } from "./progress";

export const dynamic = "force-dynamic";

export default async function RunPage({ params, searchParams }) {
  const { runId } = await params;
  const { order } = await searchParams;
  const status = await getRun(runId).status;
  return (
    <main>
      <h1>Order {order}</h1>
      <p>
        Run <code>{runId}</code>, status when the page loaded: <span id="initial-status">{status}</span>
      </p>
      <Progress runId={runId} orderId={order} />
    </main>
  );
}
