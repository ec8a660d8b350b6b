"""Flows and steps over real HTTP: in-links across steps, progress, status, the flow runner."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from stepstore import (
    AuthenticationError,
    Flow,
    FlowFailedError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    StepStatus,
    StoreInterface,
)
from stepstore.client import ApiClient


def test_in_link_takes_the_latest_earlier_producer(alice, flow_id):
    first = StoreInterface(flow_id, step_name="first")
    first.save_output(1, "x")
    first.save_output("from first", "y")
    second = StoreInterface(flow_id, step_name="second")
    second.save_output(2, "x")
    third = StoreInterface(flow_id, step_name="third")

    assert third.get_input("x") == 2  # second shadows first
    assert third.get_input("y") == "from first"
    assert third.get_input("x", step_name="first") == 1
    assert second.get_input("x") == 1  # a step's own outputs are not on its in-link
    assert third.has_input("x") and third.has_input("y") and not third.has_input("z")
    assert not first.has_input("x")
    assert third.list_inputs() == {"x": "second", "y": "first"}


def test_steps_are_appended_in_order_and_know_their_predecessor(alice, flow_id):
    names = ["load", "clean", "report"]
    stores = [StoreInterface(flow_id, step_name=n) for n in names]
    assert [s.get_previous_step_name() for s in stores] == [None, "load", "clean"]
    again = StoreInterface(flow_id, step_name="load")  # naming a step again does not append it
    assert again.get_previous_step_name() is None
    assert [s.name for s in again.get_flow_status().steps] == names
    assert StoreInterface(flow_id).step_name == "report"  # step_name=None: the flow's current step


def test_progress_and_status_show_in_the_flow_status(alice, flow_id):
    store = StoreInterface(flow_id, step_name="work")
    StoreInterface(flow_id, step_name="later")
    assert store.update_progress(40, "reading") is True
    status = store.get_flow_status()
    work = status.step("work")
    assert (work.status, work.progress, work.message) == (StepStatus.RUNNING, 40.0, "reading")
    assert status.step("later").status is StepStatus.PENDING
    store.set_step_status("completed")
    assert store.get_flow_status().step("work").progress == 100.0


@pytest.mark.parametrize("bad", [-1, 100.5, float("nan"), "50", True])
def test_out_of_range_progress_is_a_value_error(alice, flow_id, bad):
    store = StoreInterface(flow_id, step_name="work")
    with pytest.raises(ValueError, match="completion"):
        store.update_progress(bad, "x")


def test_the_api_itself_rejects_out_of_range_progress_naming_the_field(alice, flow_id):
    StoreInterface(flow_id, step_name="work")
    with pytest.raises(InvalidInputError) as caught:
        ApiClient.from_environment().put(
            f"/flows/{flow_id}/steps/work/progress", {"completion": 150, "message": ""}
        )
    assert caught.value.status == 422 and caught.value.field == "completion"
    assert "completion" in str(caught.value)


def test_flow_runner_marks_steps_and_stops_at_a_failure(alice):
    flow = Flow("runner")
    seen = []

    @flow.step("ok")
    def ok(store):
        seen.append(store.step_name)
        store.save_output(5, "n")

    @flow.step("boom")
    def boom(store):
        seen.append(store.get_input("n"))
        raise RuntimeError("disk on fire")

    @flow.step("never")
    def never(store):
        seen.append("never")

    with pytest.raises(FlowFailedError, match="boom") as caught:
        flow.run(flow_id="runner-1")
    assert seen == ["ok", 5]
    status = StoreInterface("runner-1", step_name="ok").get_flow_status()
    assert [(s.name, s.status) for s in status.steps] == [
        ("ok", StepStatus.COMPLETED),
        ("boom", StepStatus.FAILED),
        ("never", StepStatus.PENDING),
    ]
    assert status.step("boom").message == "RuntimeError: disk on fire"
    assert status.status is StepStatus.FAILED
    assert caught.value.step_name == "boom"


def test_unknown_flow_is_not_found(alice):
    with pytest.raises(NotFoundError, match="flow 'nope-never-made' not found"):
        StoreInterface("nope-never-made")


def test_another_user_sees_nothing_of_my_flow(make_user, flow_id):
    alice = make_user("alice")
    store = StoreInterface(flow_id, step_name="secret-step")
    store.save_output({"salary": 1}, "payroll")

    make_user("bob")
    with pytest.raises(NotFoundError) as caught:
        StoreInterface(flow_id)  # Bob has no flow of that id: nothing disclosed
    assert "secret-step" not in str(caught.value)
    bob_step = StoreInterface(flow_id, step_name="secret-step")  # his own flow, not Alice's
    with pytest.raises(NotFoundError):
        bob_step.get_input("payroll", step_name="secret-step")
    assert bob_step.get_flow_status().owner != alice.name
    with pytest.raises(ForbiddenError, match="may not act for user"):
        StoreInterface(flow_id, user=alice.name, step_name="secret-step")


def test_admin_and_service_tokens_may_act_for_a_user(make_user, flow_id):
    alice = make_user("alice")
    StoreInterface(flow_id, step_name="s").save_output(7, "n")
    make_user("scheduler", role="service")
    as_alice = StoreInterface(flow_id, user=alice.name, step_name="s")
    assert as_alice.get_input("n", step_name="s") == 7
    with pytest.raises(NotFoundError, match="user 'ghost' not found"):
        StoreInterface(flow_id, user="ghost", step_name="s")


def test_requests_without_a_valid_token_are_401(stack, monkeypatch):
    assert requests.get(f"{stack.api_url}/health", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{stack.api_url}/me", timeout=5).status_code == 401
    bad = requests.get(f"{stack.api_url}/me", headers={"Authorization": "Bearer sst_forged"}, timeout=5)
    assert bad.status_code == 401
    monkeypatch.setenv("STEPSTORE_API_URL", stack.api_url)
    monkeypatch.setenv("STEPSTORE_TOKEN", "sst_forged")
    with pytest.raises(AuthenticationError):
        StoreInterface("any", step_name="s")


def test_only_admins_create_users(stack, alice):
    with pytest.raises(ForbiddenError, match="only an admin"):
        ApiClient.from_environment().post("/users", {"name": "mallory"})
    admin = ApiClient(stack.api_url, stack.admin_token)
    with pytest.raises(Exception, match="already exists") as caught:
        admin.post("/users", {"name": alice.name})
    assert caught.value.status == 409


def test_concurrent_new_steps_get_distinct_positions(alice, flow_id):
    names = [f"s{i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: StoreInterface(flow_id, step_name=n), names))
    steps = StoreInterface(flow_id, step_name="s0").get_flow_status().steps
    assert sorted(s.name for s in steps) == names
    assert [s.position for s in steps] == list(range(6))
    assert [s.previous_step for s in steps[1:]] == [s.name for s in steps[:-1]]
