"""The bounded fuzz run in the suite: every operation of the OpenAPI document, valid and invalid
requests, derandomized (the same requests every run); `make fuzz` is the long form."""

from __future__ import annotations

import pytest

from tests.security.fuzz import OPENAPI, FuzzReport, prepare, run

pytestmark = pytest.mark.integration


def test_fuzzing_every_operation_gets_no_5xx_and_only_4xx_in_the_error_shape(stack):
    import json

    operations = sum(len(ops) for ops in json.loads(OPENAPI.read_text())["paths"].values())
    target = prepare(stack.api_url, stack.admin_token, users=2)

    report = run(target, examples_per_operation=2, derandomize=True, report=FuzzReport())

    assert len(report.operations) == operations, report.summary()
    assert report.requests >= 4 * operations - report.not_sent
    assert report.no_answer == 0, report.summary()
    assert report.server_errors == [], report.summary()
    assert report.outside_shape == [], report.summary()
    assert set(report.statuses) & {401, 404, 422}  # the run did reach refusals, not only successes
