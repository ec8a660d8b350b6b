"""The concrete payloads that once made the API answer 5xx (or store what DynamoDB cannot read):
each now gets a 4xx in the error shape that names what was wrong, and changes nothing."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.security.conftest import assert_error_shape

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def api(stack, make_user, flow_id):
    """A user's authorized session on the local stack, with an open step `a` of a fresh flow."""
    user = make_user("payloads", use=False)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {user.token}"
    step = f"{stack.api_url}/flows/{flow_id}/steps/a"
    assert session.put(step, timeout=30).status_code == 200
    session.step = step  # type: ignore[attr-defined]
    yield session
    session.close()


def _progress(api) -> float:
    return api.get(api.step, timeout=30).json()["progress"]


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(api):
    response = api.put(f"{api.step}/progress", data=b'{"completion": 5, "message": "\xff\xfe"}', headers=JSON)
    body = assert_error_shape(response, 400)
    assert body["field"] == "body" and "UTF-8" in body["message"]
    assert _progress(api) == 0


def test_multipart_without_a_boundary_is_a_415(api):
    response = api.put(f"{api.step}/progress", data=b"x", headers={"Content-Type": "multipart/form-data"})
    body = assert_error_shape(response, 415)
    assert body["field"] == "Content-Type" and "application/json" in body["message"]


def test_a_body_in_another_media_type_is_a_415_in_the_error_shape(api):
    response = api.put(
        f"{api.step}/progress", data=b'{"completion": 5}', headers={"Content-Type": "text/plain"}
    )
    assert_error_shape(response, 415)
    assert _progress(api) == 0


def test_a_deeply_nested_body_is_a_400(api):
    response = api.put(f"{api.step}/progress", data=b"[" * 30000, headers=JSON)
    body = assert_error_shape(response, 400)
    assert "nests deeper than" in body["message"]


def test_a_deeply_nested_inline_value_json_is_a_422_naming_it(api):
    response = api.put(
        f"{api.step}/outputs/deep", json={"kind": "dict", "value_json": "[" * 30000}, timeout=30
    )
    body = assert_error_shape(response, 422)
    assert body["field"] == "value_json" and "nests deeper than" in body["message"]


def test_an_integer_literal_past_4300_digits_is_a_400(api):
    response = api.put(f"{api.step}/progress", data=b'{"completion": ' + b"1" * 5000 + b"}", headers=JSON)
    body = assert_error_shape(response, 400)
    assert "5000 digits" in body["message"]


def test_an_integer_past_4300_digits_in_value_json_is_named_without_python_advice(api):
    response = api.put(f"{api.step}/outputs/big", json={"kind": "int", "value_json": "1" * 5000}, timeout=30)
    body = assert_error_shape(response, 422)
    assert body["field"] == "value_json" and "set_int_max_str_digits" not in body["message"]


def test_a_lone_surrogate_in_a_page_title_is_a_400_and_stores_nothing(api):
    page = b'{"page": {"title": "\\ud800", "sections": []}}'
    response = api.put(f"{api.step}/page", data=page, headers=JSON)
    body = assert_error_shape(response, 400)
    assert body["field"] == "page.title" and "Unicode" in body["message"]
    assert api.get(f"{api.step}/page", timeout=30).json()["stored"] == "none"


def test_a_completion_dynamodb_cannot_store_is_a_400_and_changes_nothing(api):
    response = api.put(f"{api.step}/progress", json={"completion": 1e-200}, timeout=30)
    body = assert_error_shape(response, 400)
    assert body["field"] == "completion" and "1e-130" in body["message"]
    assert _progress(api) == 0
    assert api.put(f"{api.step}/progress", json={"completion": 1e-100}, timeout=30).status_code == 200


def test_nan_is_not_json_and_is_refused(api):
    response = api.put(f"{api.step}/progress", data=b'{"completion": NaN}', headers=JSON)
    assert_error_shape(response, 400)


def test_an_unknown_route_is_a_404_in_the_error_shape(api, stack):
    body = assert_error_shape(api.get(f"{stack.api_url}/no/such/route", timeout=30), 404)
    assert body["error"] == "not_found"


def test_an_unknown_method_on_a_route_is_a_405_naming_the_allowed_ones(api, stack):
    response = api.patch(f"{stack.api_url}/flows", timeout=30)
    body = assert_error_shape(response, 405)
    assert body["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_head_and_options_are_answered_as_api_gateway_would(api, stack):
    head = api.head(f"{stack.api_url}/flows", timeout=30)
    assert head.status_code == 200 and head.content == b""
    # OPTIONS is a CORS preflight, answered by the gateway itself (no body, no authorizer).
    options = requests.options(f"{stack.api_url}/flows", timeout=30)
    assert options.status_code == 204 and options.content == b""
    assert_error_shape(api.request("PROPFIND", f"{stack.api_url}/flows", timeout=30), 405)


def test_a_body_past_the_apis_limit_is_a_413(api):
    response = api.put(f"{api.step}/progress", data=b" " * (1024 * 1024 + 1), headers=JSON)
    body = assert_error_shape(response, 413)
    assert body["field"] == "body"


def test_the_local_gateway_refuses_a_content_length_past_10_mb_without_reading_it(api, stack):
    # Only the headers are sent: an answer proves the gateway did not wait for (or buffer) the body.
    request = (
        f"PUT /flows/x/steps/a/progress HTTP/1.1\r\nHost: local\r\n"
        f"{'Authorization'}: {api.headers['Authorization']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * 1024**3}\r\n\r\n"
    ).encode()
    with socket.create_connection((stack.host, stack.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"Connection: close" in head
    assert b'"error": "too_large"' in payload


def test_the_local_gateway_answers_malformed_requests_in_json(stack):
    with socket.create_connection((stack.host, stack.port), timeout=30) as connection:
        connection.sendall(b"GET /flows HTTP/1.1\r\nHost: local\r\nContent-Length: lots\r\n\r\n")
        time.sleep(0.1)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b'"field": "Content-Length"' in answer
