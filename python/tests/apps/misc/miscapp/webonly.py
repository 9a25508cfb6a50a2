"""A module only the web-app process of test_engine_e2e imports: it makes that process's code
version differ from the workers' (the test process never imports it)."""

from stepwise import workflow

wf = workflow.Workflows()


@wf.workflow
async def web_only():
    return None
