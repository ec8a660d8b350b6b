"""`stepstore assets ...` against the local stack."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from stepstore import Asset, Dataset, StoreInterface
from stepstore.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def store(alice, flow_id) -> StoreInterface:
    return StoreInterface(flow_id, step_name="s")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ls_filters_and_show_lists_versions(store, capsys):
    data_id = store.save_asset(Dataset(pd.DataFrame({"x": [1]}), "sales", metadata={"src": "crm"}))
    store.save_asset(Dataset(pd.DataFrame({"x": [2]}), "sales", name="fixed"), overwrite=True)
    other_id = store.save_asset(Asset({"a": 1}, "notes", "other"))

    code, out, _ = run(capsys, "assets", "ls")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [other_id, data_id]

    code, out, _ = run(capsys, "assets", "ls", "--type", "dataset", "--json")
    listed = json.loads(out)
    assert [(a["asset_id"], a["version"], a["name"]) for a in listed] == [(data_id, 2, "fixed")]
    assert "url" not in listed[0]

    code, out, _ = run(capsys, "assets", "show", data_id)
    assert code == 0
    assert f"asset {data_id}: dataset 'sales', version 2" in out
    assert "versions (2):" in out and "v1" in out and "(fixed)" in out

    code, out, _ = run(capsys, "assets", "show", data_id, "--version", "1", "--json")
    assert json.loads(out)["metadata"] == {"src": "crm"}


def test_put_and_get_move_bytes_with_a_progress_bar(store, capsys, tmp_path):
    source = tmp_path / "model.bin"
    source.write_bytes(bytes(range(256)) * (5 * 4096))  # 5 MiB: big enough for a bar
    code, out, err = run(capsys, "assets", "put", str(source), "--label", "weights", "--type", "model")
    asset_id = out.strip()
    assert code == 0 and "100%" in err and "uploading model.bin" in err

    target = tmp_path / "copy.bin"
    code, _, err = run(capsys, "assets", "get", asset_id, "-o", str(target))
    assert code == 0 and "100%" in err
    assert target.read_bytes() == source.read_bytes()

    small = tmp_path / "small.txt"
    small.write_bytes(b"tiny")
    code, _, err = run(capsys, "assets", "put", str(small), "--label", "tiny")
    assert code == 0 and "%" not in err  # no bar for a few bytes

    code, _, err = run(capsys, "assets", "put", str(small), "--label", "tiny")
    assert code == 1 and "already has label 'tiny'" in err


def test_rm_by_id_and_by_filter(store, capsys):
    first = store.save_asset(Asset(1, "a", "other"))
    second = store.save_asset(Asset(2, "b", "other"))
    keep = store.save_asset(Asset(3, "b", "schema"))

    code, out, _ = run(capsys, "assets", "rm", first)
    assert code == 0 and f"deleted {first}" in out

    code, out, _ = run(capsys, "assets", "rm", "--label", "b", "--type", "other", "--dry-run")
    assert f"would delete {second}" in out
    code, out, _ = run(capsys, "assets", "rm", "--label", "b", "--type", "other")
    assert f"deleted {second}" in out

    assert [a.id for a in store.get_assets()] == [keep]
    code, _, err = run(capsys, "assets", "rm")
    assert code == 1 and "name the assets to delete" in err
