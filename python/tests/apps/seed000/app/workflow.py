from stepwise import workflow

wf = workflow.Workflows()
