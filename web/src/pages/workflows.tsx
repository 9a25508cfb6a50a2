/**
 * The workflows page: for each workflow with stored runs, its runs counted by status and the
 * p50 / p95 duration of its ended runs (`GET /workflows`), each linking to its filtered runs.
 */
import { api } from "../api/client.ts";
import { useLive } from "../api/live.ts";
import { RUN_STATUSES, type WorkflowStats } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { useFetch } from "../components/use-fetch.ts";
import { fileOf, formatDuration, shortName } from "../format.ts";

export function WorkflowsPage() {
  const stats = useFetch(async (): Promise<WorkflowStats[]> => {
    const answer = await api.workflows();
    return Array.isArray(answer) ? answer : answer.workflows;
  }, []);
  useLive(undefined, () => stats.reload(), 1000);
  return (
    <section>
      <h1>Workflows</h1>
      {stats.error && (
        <p class="error" role="alert">
          {stats.error.message}
        </p>
      )}
      <table class="workflows" data-testid="workflows-table">
        <thead>
          <tr>
            <th>Workflow</th>
            <th>Language</th>
            {RUN_STATUSES.map((status) => (
              <th key={status} class="num">
                {status}
              </th>
            ))}
            <th class="num">p50</th>
            <th class="num">p95</th>
          </tr>
        </thead>
        <tbody>
          {stats.value?.map((workflow) => (
            <tr key={workflow.workflowName}>
              <td title={workflow.workflowName}>
                <Link href={`/?workflow=${encodeURIComponent(workflow.workflowName)}`}>
                  {shortName(workflow.workflowName)}
                </Link>
                {fileOf(workflow.workflowName) && <span class="muted"> {fileOf(workflow.workflowName)}</span>}
              </td>
              <td>{workflow.language}</td>
              {RUN_STATUSES.map((status) => (
                <td key={status} class="num">
                  {workflow.counts[status] ?? 0}
                </td>
              ))}
              <td class="num">{formatDuration(workflow.durationMs?.p50)}</td>
              <td class="num">{formatDuration(workflow.durationMs?.p95)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {stats.value?.length === 0 && <p class="empty">No runs yet.</p>}
    </section>
  );
}
