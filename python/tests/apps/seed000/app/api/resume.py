from app.workflows.approval import Approval


# The seed mounts this on a web app (`@app.post("/api/resume")`); the framework is the reader's.
async def resume(approval: Approval):
    """Resume the workflow when an approval is received"""

    await approval.resume("draft-123")
    return {"ok": True}
