"""The SDK's user-facing layers: the registry of workflows and steps, the Vercel style
(`stepwise.workflow`) and the Cloudflare style (`stepwise.WorkflowEntrypoint`)."""
