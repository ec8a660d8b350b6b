"""A small flow runner: steps in order, each with its own StoreInterface, statuses kept in the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from stepstore.errors import StepStoreError
from stepstore.status import FlowStatus, StepStatus
from stepstore.store import StoreInterface

StepFunction = Callable[[StoreInterface], object]


class FlowFailedError(StepStoreError):
    """A step raised; the step is marked failed and the steps after it did not run."""

    def __init__(self, flow_id: str, step_name: str, cause: BaseException) -> None:
        super().__init__(f"flow {flow_id!r} failed at step {step_name!r}: {type(cause).__name__}: {cause}")
        self.flow_id = flow_id
        self.step_name = step_name
        self.cause = cause


@dataclass(frozen=True)
class FlowRun:
    flow_id: str
    status: FlowStatus


@dataclass
class Flow:
    """An app: named steps that run in order. Each step function gets the StoreInterface of its step.

    ::

        flow = Flow("sales")

        @flow.step("load")
        def load(store):
            store.save_output(pd.read_csv("sales.csv"), "sales")

        flow.run()
    """

    name: str
    steps: list[tuple[str, StepFunction]] = field(default_factory=list)

    def step(self, step_name: str) -> Callable[[StepFunction], StepFunction]:
        """Register the decorated function as the next step, called `step_name`."""

        def register(function: StepFunction) -> StepFunction:
            self.add_step(step_name, function)
            return function

        return register

    def add_step(self, step_name: str, function: StepFunction) -> None:
        if any(name == step_name for name, _ in self.steps):
            raise ValueError(f"flow {self.name!r} already has a step named {step_name!r}")
        self.steps.append((step_name, function))

    def run(self, flow_id: str | None = None, user: str | None = None) -> FlowRun:
        """Run every step in order as one new flow (or resume `flow_id`) and return its final status.

        Each step is marked running, then completed; a step that raises is marked failed with the
        error as its message, and FlowFailedError is raised.
        """
        if not self.steps:
            raise ValueError(f"flow {self.name!r} has no steps")
        flow_id = flow_id or f"{self.name}-{uuid.uuid4().hex[:12]}"
        # Open every step first, so the flow's status lists the steps still to come as pending.
        stores = [StoreInterface(flow_id, user=user, step_name=name) for name, _ in self.steps]
        for store, (name, function) in zip(stores, self.steps, strict=True):
            if store.step_state.status is StepStatus.COMPLETED:
                continue  # resuming: this step already ran
            store.set_step_status(StepStatus.RUNNING)
            try:
                function(store)
            except Exception as error:
                store.set_step_status(StepStatus.FAILED, f"{type(error).__name__}: {error}"[:4096])
                raise FlowFailedError(flow_id, name, error) from error
            store.set_step_status(StepStatus.COMPLETED)
        return FlowRun(flow_id=flow_id, status=stores[-1].get_flow_status())
