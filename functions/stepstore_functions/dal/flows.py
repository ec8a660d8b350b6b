"""Flows and their steps in the metadata table."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from stepstore_functions.dal import cursors
from stepstore_functions.dal.tables import (
    FlowItem,
    StepItem,
    StepOrderItem,
    flow_pk,
    is_condition_failure,
    lost_a_race,
    transaction,
    utcnow,
)
from stepstore_functions.models.domain import Flow, FlowSummary, Step, StepStatus
from stepstore_functions.models.errors import ConflictError

_APPEND_ATTEMPTS = 8
# Out-link sort keys order producers by a zero-padded position (dal/outputs.py): this many fit.
MAX_STEPS = 10**5

# A step's position and predecessor never change once the step exists (steps are only ever
# appended), so those this execution environment has seen are kept: hot reads then cost one query.
_POSITIONS: dict[tuple[str, str, str], tuple[int, str | None]] = {}
_MAX_CACHED_POSITIONS = 50_000


def _step(item: StepItem) -> Step:
    return Step(
        name=item.name,
        position=int(item.position),
        status=StepStatus(item.status),
        progress=float(item.progress),
        message=item.message,
        created_at=item.created_at,
        updated_at=item.updated_at,
        page_version=int(item.page_version),
        previous=item.previous_step,
    )


def get_step(owner: str, flow_id: str, step_name: str) -> Step | None:
    try:
        step = _step(StepItem.get(flow_pk(owner, flow_id), f"STEP#{step_name}", consistent_read=True))
    except DoesNotExist:
        return None
    _remember(owner, flow_id, step)
    return step


def step_link(owner: str, flow_id: str, step_name: str) -> tuple[int, str | None] | None:
    """(position, previous step) of the step, from memory when this environment has seen it before."""
    link = _POSITIONS.get((owner, flow_id, step_name))
    if link is not None:
        return link
    step = get_step(owner, flow_id, step_name)
    return (step.position, step.previous) if step is not None else None


def forget_positions() -> None:
    _POSITIONS.clear()


def _remember(owner: str, flow_id: str, step: Step) -> None:
    if len(_POSITIONS) >= _MAX_CACHED_POSITIONS:
        _POSITIONS.clear()
    _POSITIONS[(owner, flow_id, step.name)] = (step.position, step.previous)


def _order_sk(position: int) -> str:
    return f"POS#{position:05d}"


def get_flow(
    owner: str, flow_id: str, limit: int, cursor: str | None = None
) -> tuple[Flow, str | None] | None:
    """The flow with one page of its steps in order (`limit` of them after `cursor`), and the next cursor.

    The steps' order items are one key-range query; the steps themselves one consistent batch read.
    """
    pk = flow_pk(owner, flow_id)
    start = cursors.decode_key(cursor, "steps", {"pk": pk}, {"sk": "POS#"})
    try:
        flow = FlowItem.get(pk, "FLOW", consistent_read=True)
    except DoesNotExist:
        return None
    order, last = cursors.query_page(
        StepOrderItem,
        StepOrderItem.query,
        limit,
        start,
        hash_key=pk,
        range_key_condition=StepOrderItem.sk.startswith("POS#"),
        consistent_read=True,
    )
    keys = [(pk, f"STEP#{item.name}") for item in order]
    steps = sorted(
        (_step(i) for i in StepItem.batch_get(keys, consistent_read=True)) if keys else (),
        key=lambda s: s.position,
    )
    found = Flow(
        owner=owner,
        flow_id=flow_id,
        current_step=flow.current_step,
        steps=tuple(steps),
        created_at=flow.created_at,
    )
    return found, cursors.encode_key("steps", last)


def current_step_name(owner: str, flow_id: str) -> tuple[bool, str | None]:
    """(whether the flow exists, its current step's name)."""
    try:
        flow = FlowItem.get(flow_pk(owner, flow_id), "FLOW", consistent_read=True)
    except DoesNotExist:
        return False, None
    return True, flow.current_step


def list_flows(owner: str, limit: int, after: tuple[str, str] | None = None) -> list[FlowSummary]:
    """The owner's flows, newest first: at most `limit`, starting after the flow `after` names
    (its (created_at sort key, flow_id), as a page cursor carries it). Reads the owner's index only."""
    start = None
    if after is not None:
        created, flow_id = after
        start = {
            "pk": {"S": flow_pk(owner, flow_id)},
            "sk": {"S": "FLOW"},
            "gsi1pk": {"S": f"FLOWS#{owner}"},
            "gsi1sk": {"S": created},
        }
    items = FlowItem.by_owner.query(
        f"FLOWS#{owner}", scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    return [
        FlowSummary(
            flow_id=i.flow_id,
            created_at=i.created_at,
            sort_key=i.gsi1sk,
            current_step=i.current_step,
            step_count=int(i.step_count),
        )
        for i in items
    ]


def list_steps(owner: str, flow_id: str) -> list[Step]:
    """The flow's steps in order (one query)."""
    items = StepItem.query(flow_pk(owner, flow_id), StepItem.sk.startswith("STEP#"))
    return sorted((_step(i) for i in items), key=lambda s: s.position)


def ensure_step(owner: str, flow_id: str, step_name: str) -> Step:
    """The named step of the flow, appended (and the flow created) if it is new.

    Appends race through a conditional transaction on the flow's step count, so two callers
    adding steps at once get distinct positions and neither step is lost.
    """
    existing = get_step(owner, flow_id, step_name)
    if existing is not None:
        return existing
    pk = flow_pk(owner, flow_id)
    for _ in range(_APPEND_ATTEMPTS):
        try:
            flow = FlowItem.get(pk, "FLOW", consistent_read=True)
        except DoesNotExist:
            flow = None
        position = int(flow.step_count) if flow else 0
        if position >= MAX_STEPS:
            raise ConflictError(f"flow {flow_id!r} has {MAX_STEPS} steps, the most a flow may have")
        now = utcnow()
        step = StepItem(
            pk=pk,
            sk=f"STEP#{step_name}",
            name=step_name,
            position=position,
            previous_step=flow.last_step if flow else None,
            status=StepStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        try:
            with transaction() as tx:
                if flow is None:
                    new_flow = FlowItem(
                        pk=pk,
                        sk="FLOW",
                        owner=owner,
                        flow_id=flow_id,
                        step_count=1,
                        last_step=step_name,
                        current_step=step_name,
                        created_at=now,
                        gsi1pk=f"FLOWS#{owner}",
                        gsi1sk=now.isoformat(),
                    )
                    tx.save(new_flow, condition=FlowItem.pk.does_not_exist())
                else:
                    tx.update(
                        flow,
                        actions=[
                            FlowItem.step_count.set(position + 1),
                            FlowItem.last_step.set(step_name),
                            FlowItem.current_step.set(step_name),
                        ],
                        condition=FlowItem.step_count == position,
                    )
                tx.save(step, condition=StepItem.pk.does_not_exist())
                tx.save(
                    StepOrderItem(pk=pk, sk=_order_sk(position), name=step_name),
                    condition=StepOrderItem.pk.does_not_exist(),
                )
            created = _step(step)
            _remember(owner, flow_id, created)
            return created
        except TransactWriteError as error:
            raced = get_step(owner, flow_id, step_name)
            if raced is not None:
                return raced
            if not lost_a_race(error):
                raise
    raise ConflictError(
        f"could not append step {step_name!r} to flow {flow_id!r}: too many concurrent appends"
    )


def record_progress(
    owner: str, flow_id: str, step_name: str, completion: float, message: str, page_update: bool
) -> Step | None:
    """Store progress and message; a pending step becomes running. None if the step is unknown."""
    item = StepItem(pk=flow_pk(owner, flow_id), sk=f"STEP#{step_name}")
    actions = [
        StepItem.progress.set(completion),
        StepItem.message.set(message),
        StepItem.updated_at.set(utcnow()),
    ]
    if page_update:
        actions.append(StepItem.page_version.add(1))
    try:
        item.update(actions=actions, condition=StepItem.pk.exists())
    except UpdateError as error:
        if is_condition_failure(error):
            return None
        raise
    if item.status == StepStatus.PENDING.value:
        return set_status(
            owner, flow_id, step_name, StepStatus.RUNNING, None, only_if=StepStatus.PENDING
        ) or _step(item)
    return _step(item)


def set_status(
    owner: str,
    flow_id: str,
    step_name: str,
    status: StepStatus,
    message: str | None,
    only_if: StepStatus | None = None,
) -> Step | None:
    """Set the step's status (and message). None if the step is unknown or not in `only_if`."""
    item = StepItem(pk=flow_pk(owner, flow_id), sk=f"STEP#{step_name}")
    actions = [StepItem.status.set(status.value), StepItem.updated_at.set(utcnow())]
    if message is not None:
        actions.append(StepItem.message.set(message))
    if status is StepStatus.COMPLETED:
        actions.append(StepItem.progress.set(100))
    condition = StepItem.pk.exists()
    if only_if is not None:
        condition &= StepItem.status == only_if.value
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if is_condition_failure(error):
            return None
        raise
    if status is StepStatus.RUNNING:
        FlowItem(pk=flow_pk(owner, flow_id), sk="FLOW").update(actions=[FlowItem.current_step.set(step_name)])
    return _step(item)
