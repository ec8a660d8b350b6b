"""Who may do what with an asset: its owner, a user it is shared with, and a stranger."""

from __future__ import annotations

import pandas as pd
import pytest

from stepstore import (
    Asset,
    AssetType,
    Dataset,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    StoreInterface,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def cast(make_user, flow_id):
    """Owner, reader and stranger, each with a StoreInterface; the owner's dataset shared with the reader."""
    owner, reader, stranger = (make_user(role, use=False) for role in ("owner", "reader", "stranger"))

    def store_of(caller) -> StoreInterface:
        make_user.act_as(caller)
        return StoreInterface(flow_id, step_name="s")

    stores = {"owner": store_of(owner), "reader": store_of(reader), "stranger": store_of(stranger)}
    frame = pd.DataFrame({"x": [1, 2, 3]})
    asset_id = stores["owner"].save_asset(Dataset(frame, "quarterly", name="q1"))
    stores["owner"].share_asset(asset_id, reader.name)
    return stores, asset_id, frame, (owner, reader, stranger)


def test_owner_and_reader_can_read_a_stranger_cannot(cast):
    stores, asset_id, frame, (owner, reader, _) = cast
    for who in ("owner", "reader"):
        store = stores[who]
        pd.testing.assert_frame_equal(store.get_asset_by_id(asset_id).object, frame)
        assert store.get_dataset("quarterly").id == asset_id
        assert store.get_dataset("quarterly", name="q1").owner == owner.name
        assert [a.id for a in store.get_assets(type=AssetType.DATASET)] == [asset_id]
        assert [v.version for v in store.list_asset_versions(asset_id)] == [1]
    stranger = stores["stranger"]
    with pytest.raises(NotFoundError, match=f"asset {asset_id} not found"):
        stranger.get_asset_by_id(asset_id)
    with pytest.raises(NotFoundError):
        stranger.get_dataset("quarterly")
    with pytest.raises(NotFoundError):
        stranger.list_asset_versions(asset_id)
    assert stranger.get_assets() == []
    assert stranger.get_assets(asset_id=asset_id) == []
    assert stores["owner"].list_asset_shares(asset_id) == [reader.name]


def test_a_reader_sees_new_versions_but_cannot_change_delete_or_reshare(cast):
    stores, asset_id, _, (_, _, stranger) = cast
    stores["owner"].save_asset(Dataset(pd.DataFrame({"x": [4]}), "quarterly", name="q2"), overwrite=True)
    assert stores["reader"].get_dataset("quarterly").object["x"].tolist() == [4]

    store = stores["reader"]
    with pytest.raises(ForbiddenError, match="read-only; only its owner may add versions"):
        store.save_asset(Dataset(pd.DataFrame({"x": [9]}), "quarterly"), overwrite=True, asset_id=asset_id)
    with pytest.raises(ForbiddenError, match="only its owner may delete it"):
        store.delete_asset(asset_id)
    with pytest.raises(ForbiddenError, match="only its owner may share it"):
        store.share_asset(asset_id, stranger.name)
    with pytest.raises(NotFoundError):
        stores["stranger"].delete_asset(asset_id)
    with pytest.raises(NotFoundError):
        stores["stranger"].share_asset(asset_id, stranger.name)
    assert [v.version for v in stores["owner"].list_asset_versions(asset_id)] == [2, 1]
    # A reader's own asset with the same label is theirs: saving it is not a conflict with the owner's.
    own_id = store.save_asset(Dataset(pd.DataFrame({"x": [0]}), "quarterly"))
    assert own_id != asset_id
    # Own assets win: the shared look-alike no longer answers the reader's own lookup by label.
    assert {a.id for a in store.get_assets(label="quarterly")} == {own_id}


def test_revoking_a_share_ends_the_readers_access(cast):
    stores, asset_id, _, (_, reader, _) = cast
    stores["owner"].unshare_asset(asset_id, reader.name)

    with pytest.raises(NotFoundError):
        stores["reader"].get_asset_by_id(asset_id)
    assert stores["reader"].get_assets() == []
    assert stores["owner"].list_asset_shares(asset_id) == []
    with pytest.raises(NotFoundError, match="is not shared with"):
        stores["owner"].unshare_asset(asset_id, reader.name)


def test_sharing_needs_another_user_but_does_not_say_which_names_are_users(cast):
    stores, asset_id, _, (owner, _, _) = cast
    # Answering "no such user" would let anyone list the users: a share names a user name.
    stores["owner"].share_asset(asset_id, "nobody-here")
    assert "nobody-here" in stores["owner"].list_asset_shares(asset_id)
    with pytest.raises(InvalidInputError, match="already yours"):
        stores["owner"].share_asset(asset_id, owner.name)


def test_links_may_name_shared_assets_but_not_unreadable_ones(cast):
    stores, asset_id, _, _ = cast
    shared = stores["reader"].get_asset_by_id(asset_id)
    derived = Asset({"from": "quarterly"}, "summary", "other")
    derived.link_asset("source", shared)
    stores["reader"].save_asset(derived)
    assert stores["reader"].get_asset("summary", "other").linked_asset_objects == {"source": asset_id}

    sneaky = Asset({}, "sneaky", "other")
    sneaky.linked_asset_objects["source"] = asset_id
    with pytest.raises(InvalidInputError, match=f"link 'source' names asset '{asset_id}'"):
        stores["stranger"].save_asset(sneaky)
    assert stores["stranger"].get_assets() == []


def test_a_relabelled_asset_is_found_by_its_new_label_by_the_reader_too(cast):
    stores, asset_id, _, _ = cast
    renamed = Dataset(pd.DataFrame({"x": [5]}), "yearly")
    stores["owner"].save_asset(renamed, overwrite=True, asset_id=asset_id)

    assert stores["reader"].get_dataset("yearly").id == asset_id
    with pytest.raises(NotFoundError):
        stores["reader"].get_dataset("quarterly")


TRIPPED: list[str] = []


def _trip() -> str:
    TRIPPED.append("code ran")
    return "payload"


class Tripwire:
    """Unpickling this runs `_trip`: what a hostile pickle would do."""

    def __reduce__(self):
        return (_trip, ())


def test_another_users_pickle_is_not_loaded_unless_its_owner_is_trusted(cast, monkeypatch):
    from stepstore import Model

    stores, _, _, (owner, reader, _) = cast
    TRIPPED.clear()
    shared_id = stores["owner"].save_asset(Model(Tripwire(), "demand"))
    stores["owner"].share_asset(shared_id, reader.name)
    with pytest.raises(ForbiddenError, match=f"pickle saved by '{owner.name}'"):
        stores["reader"].get_model("demand")
    with pytest.raises(ForbiddenError):
        stores["reader"].get_asset_by_id(shared_id)
    assert TRIPPED == []  # refused before any byte was unpickled
    monkeypatch.setenv("STEPSTORE_TRUSTED_PICKLE_OWNERS", f"someone-else, {owner.name}")
    assert stores["reader"].get_model("demand").object == "payload"
    assert TRIPPED == ["code ran"]


def test_your_own_pickles_load_without_any_trust_setting(cast):
    from stepstore import Model

    stores, *_ = cast
    stores["reader"].save_asset(Model({"weights": [1, 2]}, "mine"))
    assert stores["reader"].get_model("mine").object == {"weights": [1, 2]}
