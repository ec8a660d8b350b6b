"""Shared fixtures: one local stack per test session (per xdist worker), a fresh user per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Caller:
    name: str
    token: str


def _role_policies() -> dict | None:
    """The template's role policies, less one statement when STEPSTORE_LOCAL_IAM_DROP=<function>:<index>
    names one (python -m tests.iam_proof runs the suite that way, once per statement)."""
    drop = os.environ.get("STEPSTORE_LOCAL_IAM_DROP")
    if not drop:
        return None
    from stepstore.local.iam import template_policies

    function, index = drop.rsplit(":", 1)
    policies = template_policies()
    del policies[function][int(index)]
    return policies


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    from stepstore.local import LocalStack

    # IAM enforced: every function runs under exactly its role in the synthesized template, so an AWS
    # call a role does not allow fails the test that makes it (tests/integration/test_iam_enforced.py).
    with LocalStack(enforce_iam=True, role_policies=_role_policies()) as running:
        yield running


@pytest.fixture
def make_user(stack, monkeypatch):
    """Create users on the stack; `make_user(use=True)` also makes it the SDK's caller."""

    def create(prefix: str = "user", *, use: bool = True, role: str = "user") -> Caller:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        caller = Caller(name=name, token=stack.create_user(name, role=role))
        if use:
            act_as(caller)
        return caller

    def act_as(caller: Caller) -> None:
        monkeypatch.setenv("STEPSTORE_API_URL", stack.api_url)
        monkeypatch.setenv("STEPSTORE_TOKEN", caller.token)

    create.act_as = act_as  # type: ignore[attr-defined]
    return create


@pytest.fixture
def alice(make_user) -> Caller:
    return make_user("alice")


@pytest.fixture
def flow_id() -> str:
    return f"flow-{uuid.uuid4().hex[:10]}"
