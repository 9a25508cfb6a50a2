"""Python workflows that TypeScript starts, resumes, sends events to and reads streams of."""

import pydantic

from stepwise import WorkflowEntrypoint, workflow

wf = workflow.Workflows()


class Decision(pydantic.BaseModel, workflow.BaseHook):
    decision: str


@wf.step
async def shout(text: str) -> str:
    writer = workflow.get_writable()
    for word in text.split():
        await writer.write({"word": word.upper()})
    await writer.close()
    return text.upper()


@wf.workflow
async def py_greeter(*, name: str, token: str):
    loud = await shout(f"hello {name}")
    async for decision in Decision.wait(token=token):
        return {"loud": loud, "decision": decision.decision}


class PyEvents(WorkflowEntrypoint):
    async def run(self, event, step):
        got = await step.wait_for_event("wait", "from-ts", timeout="1 minute")
        return {"payload": got["payload"], "instance": event["instanceId"]}


@wf.workflow
async def py_webhook():
    hook = workflow.create_webhook(token=None)
    await record_url(hook.url)
    request = await hook
    return {"method": request.method, "json": request.json(), "type": request.headers.get("content-type")}


URLS: list[str] = []


@wf.step
async def record_url(url: str) -> None:
    URLS.append(url)
