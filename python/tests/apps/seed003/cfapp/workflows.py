"""Workflows in the Cloudflare Python style (seed 003), as a Cloudflare user writes them; the
tests start them and check what ran. `RAN` records each step body's execution."""

from stepwise import NonRetryableError, WorkflowEntrypoint

RAN: list[str] = []
ATTEMPTS: dict[str, int] = {}


class MyWorkflow(WorkflowEntrypoint):
    async def run(self, event, step):
        @step.do("my first step")
        async def my_first_step():
            RAN.append("first")
            return {"hello": event["payload"]["name"], "instance": event["instanceId"]}

        first = await my_first_step()
        await step.sleep("a short nap", 1)
        approval = await step.wait_for_event("wait for approval", "approval", timeout="1 minute")
        return {"first": first, "approval": approval["payload"], "workflow": event["workflowName"]}


class Diamond(WorkflowEntrypoint):
    """A runs once however many depend on it; B and C run together; D gets both results."""

    async def run(self, event, step):
        @step.do()
        async def dep_a():
            RAN.append("a")
            return 1

        @step.do(concurrent=True)
        async def dep_b(dep_a):
            RAN.append("b")
            return dep_a + 10

        @step.do()
        async def dep_c(dep_a):
            RAN.append("c")
            return dep_a + 100

        @step.do("final", depends=[dep_b, dep_c], concurrent=True)
        async def final_step(b, c, ctx):
            RAN.append("final")
            return {"b": b, "c": c, "attempt": ctx.attempt, "name": ctx.step["name"]}

        return await final_step()


class Flaky(WorkflowEntrypoint):
    """Fails twice, then succeeds; and a step that raises NonRetryableError fails at once."""

    async def run(self, event, step):
        @step.do("flaky", config={"retries": {"limit": 5, "delay": 0.05, "backoff": "constant"}})
        async def flaky(ctx):
            ATTEMPTS["flaky"] = ctx.attempt
            if ctx.attempt < 3:
                raise RuntimeError(f"transient failure {ctx.attempt}")
            return ctx.attempt

        attempts = await flaky()

        @step.do("doomed", config={"retries": {"limit": 5, "delay": 0.05}})
        async def doomed():
            ATTEMPTS["doomed"] = ATTEMPTS.get("doomed", 0) + 1
            raise NonRetryableError("the card was declined")

        try:
            await doomed()
        except NonRetryableError as error:
            return {"attempts": attempts, "caught": str(error)}
        return {"attempts": attempts, "caught": None}


class Waiter(WorkflowEntrypoint):
    """Waits for an event with a timeout given in the params."""

    async def run(self, event, step):
        from stepwise import WaitTimeoutError

        try:
            got = await step.wait_for_event("wait", "go", timeout=event["payload"]["timeout"])
            return {"payload": got["payload"], "type": got["type"]}
        except WaitTimeoutError as error:
            return {"timed_out": str(error)[:40]}


class Sleeper(WorkflowEntrypoint):
    """Counts steps around a sleep, for pause, resume, restart and terminate."""

    async def run(self, event, step):
        @step.do("before")
        async def before():
            RAN.append("before")
            return "b"

        await before()
        await step.sleep("nap", event["payload"]["nap"])

        @step.do("after")
        async def after():
            RAN.append("after")
            return "a"

        return await after()
