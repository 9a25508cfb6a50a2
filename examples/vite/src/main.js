// The browser side: posts the form to the server's API and polls the run until it ends.
const form = document.querySelector("#signup");
const out = document.querySelector("#out");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = new FormData(form).get("email");
  const started = await fetch("/api/signup", { method: "POST", body: JSON.stringify({ email }) });
  const { runId } = await started.json();
  for (;;) {
    const run = await (await fetch(`/api/runs/${runId}`)).json();
    out.textContent = JSON.stringify(run, null, 2);
    if (run.status !== "running" && run.status !== "pending") break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});
