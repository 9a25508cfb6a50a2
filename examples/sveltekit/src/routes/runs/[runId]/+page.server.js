// A run's page on the server: the run's status when the page loads, and the approve action that
// resumes the order's approval hook (the page's button).
import { getRun, resumeHook } from "stepwise-workflows/api";
import { approvalToken } from "$lib/server/order";

/** @type {import("./$types").PageServerLoad} */
export async function load({ params, url }) {
  return {
    runId: params.runId,
    orderId: url.searchParams.get("order") ?? "",
    status: await getRun(params.runId).status,
  };
}

/** @type {import("./$types").Actions} */
export const actions = {
  approve: async ({ request }) => {
    const orderId = String((await request.formData()).get("orderId") ?? "");
    await resumeHook(approvalToken(orderId), { approved: true, by: "the example page" });
    return { approved: true };
  },
};
