"""The shared model: what crosses a boundary between the SDK, the backend and the lab.

Only the standard library is used below this package. The backend imports its
vocabulary from here: specs and their parser (`specs`), JSON literals checked
against type specs (`literals`).
"""

from .specs import (
    EXECUTION_PHASES,
    JSON,
    NODE_PHASES,
    EntityKind,
    InputSpec,
    InterfaceSpec,
    LaunchPlanSpec,
    NodeSpec,
    Spec,
    SpecError,
    TaskSpec,
    TypeSpec,
    WorkflowSpec,
    parse_spec,
    spec_of,
)

__all__ = [
    "EXECUTION_PHASES", "JSON", "NODE_PHASES", "EntityKind", "InputSpec", "InterfaceSpec",
    "LaunchPlanSpec", "NodeSpec", "Spec", "SpecError", "TaskSpec", "TypeSpec", "WorkflowSpec",
    "parse_spec", "spec_of",
]
