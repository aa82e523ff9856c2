"""`flytekit.core.workflow`: `workflow`, `WorkflowFailurePolicy` and the imperative `Workflow`."""

from ..sdk.workflows import ImperativeWorkflow, Workflow, WorkflowFailurePolicy, workflow

__all__ = ["ImperativeWorkflow", "Workflow", "WorkflowFailurePolicy", "workflow"]
