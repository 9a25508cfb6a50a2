"""Workflows for the engine's end-to-end tests: retries in the Vercel style, sleeping until a
time, and a plain pipeline (for versions and encryption)."""

from datetime import datetime, timedelta, timezone

from stepwise import WorkflowEntrypoint, workflow

wf = workflow.Workflows()
TRIES: dict[str, int] = {}


@wf.step(max_retries=4)
async def eventually(key: str) -> int:
    info = workflow.get_step_metadata()
    TRIES[key] = info.attempt
    if info.attempt < 3:
        raise workflow.RetryableError("not yet", retry_after=0.05)
    return info.attempt


@wf.step
async def refuses() -> None:
    TRIES["refuses"] = TRIES.get("refuses", 0) + 1
    raise workflow.FatalError("no: the account is closed")


@wf.workflow
async def retrying(key: str):
    attempts = await eventually(key)
    try:
        await refuses()
    except workflow.FatalError as error:
        return {"attempts": attempts, "fatal": str(error)}
    return {"attempts": attempts, "fatal": None}


@wf.step
async def upper(text: str) -> str:
    return text.upper()


@wf.workflow
async def pipeline(text: str):
    return {"upper": await upper(text), "at": workflow.now().year > 2000}


class Alarm(WorkflowEntrypoint):
    async def run(self, event, step):
        start = datetime.fromtimestamp(event["timestamp"].timestamp(), tz=timezone.utc)
        await step.sleep_until("alarm", start + timedelta(seconds=1))
        return "rang"


EXECUTED: list[str] = []


@wf.step
async def stage(name: str) -> str:
    EXECUTED.append(name)
    return name


@wf.workflow
async def three_stages():
    done = [await stage("one"), await stage("two")]
    await workflow.sleep(0.2)
    done.append(await stage("three"))
    return done
