"""Sharing never changes what a user's own lookups return.

Bob saves assets labelled like Alice's and shares them with her: every lookup she makes by label,
type or name still returns her own. A shared asset is found by label only when she has none of
that type and label, or when she names its owner.
"""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from stepstore import (
    AssetType,
    Dataset,
    Explainer,
    Model,
    NotFoundError,
    Schema,
    StoreInterface,
)

pytestmark = pytest.mark.integration

TYPES = {
    AssetType.DATASET: lambda who, label: Dataset(pd.DataFrame({"who": [who]}), label, name=f"{who}-v1"),
    AssetType.MODEL: lambda who, label: Model({"who": who}, label, name=f"{who}-v1"),
    AssetType.SCHEMA: lambda who, label: Schema(pd.Series({"who": "object"}), label=label, name=f"{who}-v1"),
    AssetType.EXPLAINER: lambda who, label: Explainer({"who": who}, label, name=f"{who}-v1"),
}
GETTERS = {
    AssetType.DATASET: "get_dataset",
    AssetType.MODEL: "get_model",
    AssetType.SCHEMA: "get_schema",
    AssetType.EXPLAINER: "get_explainer",
}


@pytest.fixture
def shadowing(make_user, flow_id, monkeypatch):
    """Alice owns one asset of each type; Bob then saves look-alikes (newer) and shares them with her."""
    monkeypatch.setenv("STEPSTORE_TRUSTED_PICKLE_OWNERS", "*")  # models and explainers are pickles
    alice, bob = make_user("alice", use=False), make_user("bob", use=False)
    make_user.act_as(alice)
    alice_store = StoreInterface(flow_id, step_name="s")
    own = {kind: alice_store.save_asset(make(alice.name, "team-data")) for kind, make in TYPES.items()}
    make_user.act_as(bob)
    bob_store = StoreInterface(flow_id, step_name="s")
    theirs = {}
    for kind, make in TYPES.items():
        theirs[kind] = bob_store.save_asset(make(bob.name, "team-data"))
        bob_store.share_asset(theirs[kind], alice.name)
    only_bobs = bob_store.save_asset(Dataset(pd.DataFrame({"who": ["bob"]}), "bob-only"))
    bob_store.share_asset(only_bobs, alice.name)
    make_user.act_as(alice)
    return {
        "alice": alice,
        "bob": bob,
        "store": StoreInterface(flow_id, step_name="s"),
        "own": own,
        "theirs": theirs,
        "only_bobs": only_bobs,
        "flow_id": flow_id,
    }


def test_every_typed_getter_returns_the_callers_own_asset(shadowing):
    store, own, theirs, bob = shadowing["store"], shadowing["own"], shadowing["theirs"], shadowing["bob"]
    for kind, getter in GETTERS.items():
        found = getattr(store, getter)("team-data")
        assert (found.id, found.owner) == (own[kind], shadowing["alice"].name), kind
        # Naming the owner reaches the shared one.
        assert getattr(store, getter)("team-data", owner=bob.name).id == theirs[kind], kind


def test_get_asset_by_label_type_name_and_type_alone_prefers_own(shadowing):
    store, own, theirs, bob = shadowing["store"], shadowing["own"], shadowing["theirs"], shadowing["bob"]
    dataset = store.get_asset("team-data", AssetType.DATASET)
    assert dataset.id == own[AssetType.DATASET]
    assert list(dataset.object["who"]) == [shadowing["alice"].name]
    # By type alone: Bob's is newer, but Alice has a dataset of her own.
    assert store.get_asset(type=AssetType.DATASET).id == own[AssetType.DATASET]
    # A name only Bob's version has does not reach past Alice's own label.
    with pytest.raises(NotFoundError):
        store.get_asset("team-data", AssetType.DATASET, name=f"{bob.name}-v1")
    found = store.get_asset("team-data", AssetType.DATASET, name=f"{bob.name}-v1", owner=bob.name)
    assert found.id == theirs[AssetType.DATASET]
    assert (
        store.get_asset("team-data", AssetType.DATASET, owner=shadowing["alice"].name).id
        == own[AssetType.DATASET]
    )


def test_get_assets_leaves_out_shared_look_alikes_but_not_other_shared_assets(shadowing):
    store, own, theirs, bob = shadowing["store"], shadowing["own"], shadowing["theirs"], shadowing["bob"]
    assert [a.id for a in store.get_assets(label="team-data", type=AssetType.DATASET)] == [
        own[AssetType.DATASET]
    ]
    assert sorted(a.id for a in store.get_assets(label="team-data")) == sorted(own.values())
    assert [a.id for a in store.get_assets(type=AssetType.DATASET)] == [
        shadowing["only_bobs"],
        own[AssetType.DATASET],
    ]
    everything = {a.asset_id for a in store.list_assets()}
    assert everything == {*own.values(), shadowing["only_bobs"]}
    assert not everything & set(theirs.values())
    named_owner = {a.asset_id for a in store.list_assets(label="team-data", owner=bob.name)}
    assert named_owner == set(theirs.values())
    # A shared asset with a label Alice does not hold is found by label as before.
    assert store.get_dataset("bob-only").id == shadowing["only_bobs"]
    # By id, the shared look-alike is still readable: sharing gave her that much.
    assert store.get_asset_by_id(theirs[AssetType.DATASET]).owner == bob.name


def test_the_match_route_prefers_own_and_takes_an_owner(stack, shadowing):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {shadowing['alice'].token}"
    url = f"{stack.api_url}/assets/match"
    mine = session.get(url, params={"label": "team-data", "type": "dataset"}, timeout=10).json()
    assert mine["asset_id"] == shadowing["own"][AssetType.DATASET]
    bobs = session.get(
        url, params={"label": "team-data", "type": "dataset", "owner": shadowing["bob"].name}, timeout=10
    ).json()
    assert bobs["asset_id"] == shadowing["theirs"][AssetType.DATASET]
    listed = session.get(f"{stack.api_url}/assets", params={"label": "team-data"}, timeout=10).json()
    assert {a["owner"] for a in listed["assets"]} == {shadowing["alice"].name}


def test_a_shared_asset_is_found_by_label_once_the_caller_has_none_of_their_own(shadowing):
    store, own, theirs = shadowing["store"], shadowing["own"], shadowing["theirs"]
    store.delete_asset(own[AssetType.MODEL])
    assert store.get_model("team-data").id == theirs[AssetType.MODEL]
    assert {a.id for a in store.get_assets(label="team-data", type=AssetType.MODEL)} == {
        theirs[AssetType.MODEL]
    }
