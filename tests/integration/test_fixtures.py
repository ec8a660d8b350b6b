"""Fixtures: listing, reading, uploading (admin and service only), traversal refusal, get_s3_asset."""

from __future__ import annotations

import io
import uuid

import pytest
import requests

from stepstore import ForbiddenError, InvalidInputError, NotFoundError, StoreInterface
from stepstore.cli import main as cli
from stepstore.fixtures import Fixtures


@pytest.fixture
def area() -> str:
    """A folder of its own under fixture/ (the fixtures bucket is shared by the whole session)."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def seeded(make_user, area) -> dict[str, bytes]:
    make_user("fixture-admin", role="admin")
    files = {
        f"{area}/a.csv": b"x,y\n1,2\n",
        f"{area}/sub/b.json": b'{"k": 1}',
        f"{area}/sub/c.bin": bytes(range(256)),
    }
    fixtures = Fixtures()
    for key, data in files.items():
        stored = fixtures.put(key, data)
        assert stored.key == f"fixture/{key}" and stored.size == len(data)
    return files


def test_list_fixture_data_lists_keys_under_the_prefix(seeded, area, make_user):
    make_user("reader")  # any user may list and read
    assert StoreInterface.list_fixture_data(area) == sorted(f"fixture/{k}" for k in seeded)
    assert StoreInterface.list_fixture_data(f"{area}/sub/") == [
        f"fixture/{area}/sub/b.json",
        f"fixture/{area}/sub/c.bin",
    ]
    assert StoreInterface.list_fixture_data(f"{area}/none") == []
    everything = StoreInterface.list_fixture_data()
    assert set(f"fixture/{k}" for k in seeded) <= set(everything)
    assert all(k.startswith("fixture/") for k in everything)


@pytest.mark.parametrize(
    "prefix", ["..", "../secrets", f"a/../../{'x'}", "/etc", "/fixture/a", "\\\\host\\share", "C:/x"]
)
def test_prefixes_that_climb_out_or_are_absolute_are_refused(stack, alice, prefix):
    with pytest.raises(ValueError, match="refused"):
        StoreInterface.list_fixture_data(prefix)
    # The API refuses them too, for callers that skip the SDK.
    response = requests.get(
        f"{stack.api_url}/fixtures",
        params={"prefix": prefix},
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "prefix"


def test_read_back_byte_for_byte_and_unknown_key_is_not_found(seeded, area, make_user):
    make_user("reader")
    fixtures = Fixtures()
    for key, data in seeded.items():
        assert fixtures.get(key) == data
        assert fixtures.get(f"fixture/{key}") == data
    with pytest.raises(NotFoundError):
        fixtures.get(f"{area}/missing.csv")
    with pytest.raises(InvalidInputError):
        fixtures.get(f"{area}/../../etc/passwd")


def test_only_admin_and_service_tokens_add_fixtures(make_user, area):
    make_user("plain")
    with pytest.raises(ForbiddenError):
        Fixtures().put(f"{area}/x.csv", b"1")
    make_user("svc", role="service")
    assert Fixtures().put(f"{area}/x.csv", b"1").size == 1
    assert StoreInterface.list_fixture_data(area) == [f"fixture/{area}/x.csv"]


def test_a_new_upload_replaces_a_fixture_and_a_bad_one_leaves_it(stack, make_user, area):
    admin = make_user("admin", role="admin")
    fixtures = Fixtures()
    fixtures.put(f"{area}/v.txt", b"one")
    fixtures.put(f"{area}/v.txt", b"two")
    assert fixtures.get(f"{area}/v.txt") == b"two"
    # Declare one thing, upload another: refused, and the fixture keeps its bytes.
    import base64
    import hashlib

    encoded = base64.urlsafe_b64encode(f"{area}/v.txt".encode()).decode().rstrip("=")
    headers = {"Authorization": f"Bearer {admin.token}"}
    ticket = requests.post(
        f"{stack.api_url}/fixtures/files/{encoded}/uploads",
        json={"size": 5, "etag": hashlib.md5(b"three").hexdigest()},
        headers=headers,
        timeout=30,
    ).json()
    requests.put(ticket["urls"][0], data=b"other", headers=ticket["headers"], timeout=30)
    commit = requests.post(
        f"{stack.api_url}/fixtures/files/{encoded}/uploads/{ticket['upload_id']}/commit",
        json={"parts": []},
        headers=headers,
        timeout=30,
    )
    assert commit.status_code == 422
    assert fixtures.get(f"{area}/v.txt") == b"two"


def test_get_s3_asset_reads_the_fixtures_bucket_and_refuses_others(stack, seeded, area, make_user, flow_id):
    from stepstore_functions.settings import get_settings

    make_user("reader")
    settings = get_settings()
    step = StoreInterface(flow_id, step_name="s", bucket_name=settings.fixtures_bucket)
    asset = step.get_s3_asset(f"fixture/{area}/a.csv")
    assert isinstance(asset, io.BytesIO) and asset.getvalue() == seeded[f"{area}/a.csv"]
    with pytest.raises(NotFoundError):
        step.get_s3_asset(f"fixture/{area}/nope.csv")
    # The data bucket holds every user's outputs: never readable this way.
    other = StoreInterface(flow_id, step_name="s", bucket_name=settings.data_bucket)
    with pytest.raises(ForbiddenError, match="not readable"):
        other.get_s3_asset("outputs/anything")
    with pytest.raises(ValueError, match="bucket_name"):
        StoreInterface(flow_id, step_name="s").get_s3_asset("fixture/a.csv")


def test_get_s3_asset_reads_a_bucket_the_deployment_allows(stack, make_user, flow_id, monkeypatch):
    import boto3

    from stepstore_functions.settings import get_settings

    bucket = f"shared-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=stack.aws_endpoint_url)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="models/m.bin", Body=b"weights")
    make_user("reader")
    step = StoreInterface(flow_id, step_name="s", bucket_name=bucket)
    with pytest.raises(ForbiddenError):
        step.get_s3_asset("models/m.bin")
    monkeypatch.setenv("STEPSTORE_READABLE_BUCKETS", f"other-bucket, {bucket}")
    get_settings.cache_clear()
    # The stage setting readable_buckets also grants the API role reads there (infra/components/functions.py).
    read = [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
    ]
    try:
        with stack.granted("api", read):
            assert step.get_s3_asset("/models/m.bin").getvalue() == b"weights"
    finally:
        monkeypatch.delenv("STEPSTORE_READABLE_BUCKETS")
        get_settings.cache_clear()


def test_cli_fixtures_put_ls_get(make_user, area, tmp_path, capsys):
    make_user("cli-admin", role="admin")
    source = tmp_path / "sales.csv"
    source.write_bytes(b"region,revenue\nnorth,10\n")
    assert cli(["fixtures", "put", str(source), f"{area}/sales.csv"]) == 0
    assert cli(["fixtures", "ls", area]) == 0
    out = capsys.readouterr().out
    assert f"fixture/{area}/sales.csv\t{source.stat().st_size}" in out
    target = tmp_path / "back.csv"
    assert cli(["fixtures", "get", f"{area}/sales.csv", "-o", str(target)]) == 0
    assert target.read_bytes() == source.read_bytes()
    assert cli(["fixtures", "ls", "../up"]) == 1
    assert "refused" in capsys.readouterr().err
