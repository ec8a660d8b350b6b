"""Property-based fuzzing of the API from its OpenAPI document (schemathesis over hypothesis).

Every operation gets valid (positive) and invalid (negative) requests, as one of several users, some
aimed at names that exist (a flow with a step, an output, a page with an element) so that requests
reach past the lookups. Each answer is recorded; the rules are that none is a 5xx and every 4xx is in
the error shape ``{error, message, field}``.

``make fuzz`` runs the long form on its own local stack::

    python -m tests.security.fuzz --requests 10000 --users 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

import stepstore_functions

OPENAPI = Path(stepstore_functions.__file__).parent / "openapi.json"
ERROR_KEYS = {"error", "message", "field"}


def error_shape_problem(response: requests.Response) -> str | None:
    """Why a 4xx answer is not in the error shape, or None if it is."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return f"Content-Type {response.headers.get('Content-Type')!r}"
    try:
        body = response.json()
    except ValueError:
        return "not JSON"
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        return f"keys {sorted(body) if isinstance(body, dict) else type(body).__name__}"
    if not isinstance(body["error"], str) or not isinstance(body["message"], str):
        return "error or message not text"
    if body["field"] is not None and not isinstance(body["field"], str):
        return "field neither text nor null"
    return None


@dataclass
class FuzzReport:
    requests: int = 0
    not_sent: int = 0
    no_answer: int = 0  # the client gave up waiting (timeouts on an overloaded machine), not a 5xx
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    outside_shape: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)

    def record(self, case: Any, response: requests.Response) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        self.operations.add(f"{case.method.upper()} {case.path}")
        where = (
            f"{case.method.upper()} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )
        if response.status_code >= 500:
            self.server_errors.append(where)
        elif response.status_code >= 400:
            problem = error_shape_problem(response)
            if problem:
                self.outside_shape.append(f"{where} ({problem})")

    def summary(self) -> str:
        return (
            f"requests: {self.requests} across {len(self.operations)} operations "
            f"(not sendable: {self.not_sent}, no answer within 60 s: {self.no_answer}); "
            f"responses >= 500: {len(self.server_errors)}; "
            f"4xx outside the error shape: {len(self.outside_shape)}; "
            f"statuses: {dict(sorted(self.statuses.items()))}"
        )


@dataclass
class Target:
    """The stack under test: its URL, its users' tokens, and names that exist for the first user."""

    api_url: str
    tokens: list[str]
    known: dict[str, str]


def prepare(api_url: str, admin_token: str, users: int) -> Target:
    """Users, and for the first of them a flow with a step, an output and a page with an input."""
    tokens = []
    for _ in range(users):
        response = requests.post(
            f"{api_url}/users",
            json={"name": f"fuzz-{uuid.uuid4().hex[:8]}"},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=60,
        )
        response.raise_for_status()
        tokens.append(response.json()["token"])
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tokens[0]}"
    step = f"{api_url}/flows/fuzz-flow/steps/load"
    session.put(step, timeout=60).raise_for_status()
    session.put(
        f"{step}/outputs/result", json={"kind": "int", "value_json": "7"}, timeout=60
    ).raise_for_status()
    page = {
        "title": "Fuzz",
        "sections": [
            {
                "id": "s1",
                "title": "s",
                "cards": [
                    {
                        "id": "c1",
                        "title": "c",
                        "content": [
                            {"id": "t1", "type": "TextInput", "title": "Text", "reference_id": "text"}
                        ],
                    }
                ],
            }
        ],
    }
    session.put(f"{step}/page", json={"page": page}, timeout=60).raise_for_status()
    known = {"flow_id": "fuzz-flow", "step_name": "load", "name": "result", "element": "text"}
    return Target(api_url, tokens, known)


def run(target: Target, examples_per_operation: int, *, derandomize: bool, report: FuzzReport) -> FuzzReport:
    """Fuzz every operation with `examples_per_operation` positive and as many negative requests."""
    schema = schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()))
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        known = {k: v for k, v in target.known.items() if k in _path_names(operation.path)}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode)]
            if known and mode is GenerationMode.POSITIVE:
                strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=known))
            _fuzz_operation(
                st.one_of(strategies), target, session, examples_per_operation, derandomize, report
            )
    return report


def _path_names(path: str) -> set[str]:
    return {part[1:-1] for part in path.split("/") if part.startswith("{")}


def _fuzz_operation(strategy, target, session, examples, derandomize, report) -> None:
    @settings(
        max_examples=examples,
        derandomize=derandomize,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, token=st.sampled_from(target.tokens), keep_generated_auth=st.booleans())
    def send(case, token, keep_generated_auth) -> None:
        kwargs = case.as_transport_kwargs(base_url=target.api_url)
        headers = kwargs["headers"]
        # Negative cases may carry a mangled Authorization header: keep it half the time, so both the
        # authorizer and the routes behind it see hostile input.
        if not (keep_generated_auth and "Authorization" in headers):
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = session.request(**kwargs, timeout=60)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            report.not_sent += 1  # refused by the client library before anything was sent
            return
        except requests.exceptions.RequestException:
            report.no_answer += 1
            return
        report.record(case, response)

    send()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the StepStore API on a local stack.")
    parser.add_argument("--requests", type=int, default=10_000, help="at least this many requests")
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args(argv)

    from stepstore.local import LocalStack

    started = time.monotonic()
    report = FuzzReport()
    with LocalStack() as stack:
        target = prepare(stack.api_url, stack.admin_token, args.users)
        rounds = 0
        while report.requests < args.requests:
            rounds += 1
            run(target, 25, derandomize=False, report=report)
            print(f"round {rounds}: {report.summary()}", file=sys.stderr, flush=True)
    for line in report.server_errors[:20] + report.outside_shape[:20]:
        print(line)
    print(f"fuzz finished in {time.monotonic() - started:.0f} s")
    print(report.summary())
    return 1 if report.server_errors or report.outside_shape else 0


if __name__ == "__main__":
    sys.exit(main())
