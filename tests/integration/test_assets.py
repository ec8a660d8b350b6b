"""Assets over the local stack: round trips of every kind, versions, conflicts and bad input."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import boto3
import numpy as np
import pandas as pd
import pytest

from stepstore import (
    Asset,
    AssetType,
    ConflictError,
    Dataset,
    Explainer,
    InvalidInputError,
    Model,
    NotFoundError,
    Schema,
    SchemaViolation,
    StoreInterface,
)

pytestmark = pytest.mark.integration


@dataclass
class FittedModel:
    """Stands in for a fitted estimator: state, and a method that uses it."""

    weights: list[float]
    bias: float

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame.to_numpy() @ np.array(self.weights) + self.bias


@dataclass
class Explanation:
    model: FittedModel

    def shap_values(self, frame: pd.DataFrame) -> np.ndarray:
        return frame.to_numpy() * np.array(self.model.weights)


@pytest.fixture
def store(alice, flow_id) -> StoreInterface:
    return StoreInterface(flow_id, step_name="train")


def typed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": pd.array([31, 45, None], dtype="Int64"),
            "income": [52_000.5, 61_250.0, np.nan],
            "plan": pd.Categorical(["basic", "pro", "basic"], categories=["basic", "pro", "team"]),
            "city": ["Oslo", "Lima", "Pune"],
            "churned": [False, True, False],
            "since": pd.to_datetime(["2020-01-02", "2021-06-30", "2019-11-11"]).tz_localize("UTC"),
        },
        index=pd.Index(["c1", "c2", "c3"], name="customer"),
    )


def test_a_dataset_round_trips_with_dtypes_index_metadata_and_column_roles(store):
    frame = typed_frame()
    dataset = Dataset(
        frame,
        "churn customers",
        metadata={"source": "crm", "rows": 3},
        name="q3",
        categorical_cols=["plan", "city"],
        predict_cols=["age", "income", "plan"],
        description="customers with their churn flag",
    )
    asset_id = store.save_asset(dataset)
    assert dataset.id == asset_id and dataset.version == 1

    loaded = store.get_dataset("churn customers")

    assert isinstance(loaded, Dataset)
    pd.testing.assert_frame_equal(loaded.object, frame)
    assert loaded.metadata == {"source": "crm", "rows": 3}
    assert (loaded.name, loaded.description, loaded.version) == ("q3", "customers with their churn flag", 1)
    assert loaded.categorical_cols == ["plan", "city"]
    assert loaded.get_categorical_names(predict_cols=True) == ["plan"]
    assert list(loaded.filter_data().columns) == ["age", "income", "plan"]
    assert loaded.id == asset_id and loaded.owner == dataset.owner and loaded.time_created


def test_a_model_round_trips_and_passes_attribute_access_through(store):
    data = Dataset(pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, 1.5]}), "training rows")
    store.save_asset(data)
    model = Model(FittedModel([2.0, -1.0], 0.5), "scorer", metadata={"auc": 0.91})
    model.link_asset("training data", data)
    model.add_engineer_notes("tuning", "lr=0.1")
    store.save_asset(model)

    loaded = store.get_model("scorer")

    assert isinstance(loaded, Model)
    assert loaded.bias == 0.5  # passed through to the wrapped model
    np.testing.assert_allclose(loaded.predict(data.object), [2.0, 3.0])
    assert loaded.metadata == {"auc": 0.91}
    assert loaded.engineer_notes == {"tuning": "lr=0.1"}
    assert loaded.linked_asset_objects == {"training data": data.id}
    linked = store.get_asset_by_id(loaded.linked_asset_objects["training data"])
    pd.testing.assert_frame_equal(linked.object, data.object)


def test_a_schema_round_trips_and_still_validates(store):
    schema = Schema(
        pd.Series({"age": "int64", "plan": "str", "score": "float64"}),
        exact_match=True,
        valid_inputs={"age": [18, 99], "plan": ["basic", "pro"], "score": [0.0, 1.0]},
        label="applicant form",
    )
    store.save_asset(schema)

    loaded = store.get_schema("applicant form")

    good = pd.DataFrame({"age": [30, 40], "plan": ["basic", "pro"], "score": [0.1, 0.9]})
    assert isinstance(loaded, Schema)
    assert loaded.exact_match is True
    assert loaded.validate(good) is True
    with pytest.raises(SchemaViolation, match=r"'age' has 7 at row 1, outside \[18, 99\]"):
        loaded.validate(good.assign(age=[30, 7]))
    with pytest.raises(SchemaViolation, match="'plan' has 'team'"):
        loaded.validate(good.assign(plan=["basic", "team"]))
    with pytest.raises(SchemaViolation, match="lacks columns \\['score'\\]"):
        loaded.validate(good.drop(columns="score"))
    with pytest.raises(SchemaViolation, match="'age' has dtype float64, expected int64"):
        loaded.validate(good.assign(age=[30.0, 40.0]))
    with pytest.raises(SchemaViolation, match="also has \\['extra'\\]"):
        loaded.validate(good.assign(extra=1))


def test_an_explainer_round_trips_with_its_model_and_dataset(store):
    frame = pd.DataFrame({"x": [1.0, 3.0], "y": [2.0, 0.0]})
    model = Model(FittedModel([1.0, 2.0], 0.0), "explained model")
    store.save_asset(model)
    explainer = Explainer(Explanation(model.object), "why scores", model=model, dataset=frame)
    store.save_asset(explainer)

    loaded = store.get_explainer("why scores")

    assert isinstance(loaded, Explainer)
    np.testing.assert_allclose(loaded.explainer.shap_values(frame), [[1.0, 4.0], [3.0, 0.0]])
    assert loaded.model == model.object
    pd.testing.assert_frame_equal(loaded.dataset, frame)
    assert loaded.linked_asset_objects == {"model": model.id}


@pytest.mark.parametrize(
    ("value", "stored_as"),
    [
        ({"threshold": 0.4, "classes": ["a", "b"], "nested": {"ok": True, "none": None}}, "json"),
        ([1, 2.5, "three"], "json"),
        (b"\x00\x01raw bytes\xff", "raw"),
        (pd.Series([1.5, 2.5], index=["a", "b"], name="weights"), "parquet"),
        ((1, 2), "pickle"),  # JSON would turn the tuple into a list
        ({1: "int keys"}, "pickle"),
    ],
)
def test_other_objects_round_trip_in_the_format_that_keeps_them_exactly(store, value, stored_as):
    asset = Asset(value, "thing", AssetType.OTHER, metadata={"why": "test"})
    store.save_asset(asset)

    loaded = store.get_asset("thing", AssetType.OTHER)
    info = store.list_asset_versions(asset.id)[0]

    assert info.format == stored_as
    if isinstance(value, pd.Series):
        pd.testing.assert_series_equal(loaded.object, value)
    else:
        assert loaded.object == value and type(loaded.object) is type(value)
    assert loaded.metadata == {"why": "test"}


def test_bytesio_round_trips_byte_for_byte(store):
    store.save_asset(Asset(io.BytesIO(b"zip bytes \x00\x01"), "archive", "other"))
    loaded = store.get_asset("archive", "other")
    assert isinstance(loaded.object, io.BytesIO) and loaded.object.getvalue() == b"zip bytes \x00\x01"


def test_overwrite_adds_versions_that_stay_readable(store):
    first = Dataset(pd.DataFrame({"v": [1]}), "prices", name="jan")
    asset_id = store.save_asset(first)
    second = Dataset(pd.DataFrame({"v": [2]}), "prices", name="feb")
    assert store.save_asset(second, overwrite=True) == asset_id
    third = Dataset(pd.DataFrame({"v": [3]}), "prices", name="mar")
    store.save_asset(third, overwrite=True, asset_id=asset_id)

    versions = store.list_asset_versions(asset_id)

    assert [(v.version, v.name) for v in versions] == [(3, "mar"), (2, "feb"), (1, "jan")]
    assert store.get_dataset("prices").object["v"].tolist() == [3]
    assert store.get_asset_by_id(asset_id, version=1).object["v"].tolist() == [1]
    # name and time_created reach older versions; the newest match wins
    assert store.get_dataset("prices", name="feb").version == 2
    assert store.get_asset("prices", AssetType.DATASET, time_created=first.time_created).version == 1
    assert [a.version for a in store.get_assets(label="prices")] == [3]


def test_a_second_save_of_the_same_label_and_type_is_a_conflict_that_writes_nothing(store, stack):
    original = Asset({"k": 1}, "config", AssetType.OTHER)
    asset_id = store.save_asset(original)
    before = _asset_objects(stack)

    with pytest.raises(ConflictError, match=f"asset {asset_id} already has label 'config'"):
        store.save_asset(Asset({"k": 2}, "config", AssetType.OTHER))

    assert _asset_objects(stack) == before
    assert [v.version for v in store.list_asset_versions(asset_id)] == [1]
    assert store.get_asset("config", "other").object == {"k": 1}
    # same label with another type is another asset
    store.save_asset(Asset({"k": 3}, "config", AssetType.SCHEMA))
    assert store.get_asset("config", "other").object == {"k": 1}


def test_an_asset_id_that_is_unknown_or_not_yours_is_refused(store, alice, make_user, flow_id):
    with pytest.raises(NotFoundError, match="asset 0123456789abcdef0123456789abcdef not found"):
        store.save_asset(Asset(1, "n", "other"), overwrite=True, asset_id="0123456789abcdef0123456789abcdef")
    with pytest.raises(InvalidInputError, match="not an asset id"):
        store.get_asset_by_id("../../etc")

    bob = make_user("bob", use=False)
    make_user.act_as(bob)
    bobs_id = StoreInterface(flow_id, step_name="b").save_asset(Asset(1, "bob's", "other"))
    make_user.act_as(alice)
    with pytest.raises(NotFoundError):
        store.save_asset(Asset(2, "bob's", "other"), overwrite=True, asset_id=bobs_id)
    with pytest.raises(NotFoundError):
        store.get_asset_by_id(bobs_id)


def test_bad_requests_are_value_errors_that_say_what_was_wrong(store):
    with pytest.raises(ValueError, match="needs a label or a type"):
        store.get_asset()
    with pytest.raises(ValueError, match=r"_thread\.lock cannot be pickled"):
        store.save_asset(Asset(threading.Lock(), "lock", "other"))
    with pytest.raises(ValueError, match=r"Model 'fn'.+function cannot be pickled"):
        store.save_asset(Model(lambda x: x, "fn"))
    with pytest.raises(ValueError, match="asset type 'gadget' is not one of"):
        Asset(1, "x", "gadget")
    with pytest.raises(ValueError, match="save it first"):
        Asset(1, "x", "other").link_asset("parent", Asset(2, "y", "other"))
    with pytest.raises(NotFoundError, match="no asset matches label='missing', type='model'"):
        store.get_model("missing")
    with pytest.raises(ValueError, match="needs a pandas DataFrame"):
        Dataset([1, 2], "not a frame")
    assert store.get_assets() == []


def test_concurrent_overwrites_each_end_as_their_own_version(store):
    asset_id = store.save_asset(Asset({"writer": "first"}, "shared counter", "other"))
    writers = 4
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            barrier.wait()
            store.save_asset(Asset({"writer": n}, "shared counter", "other"), overwrite=True)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    versions = store.list_asset_versions(asset_id)
    assert sorted(v.version for v in versions) == [1, 2, 3, 4, 5]
    written = {store.get_asset_by_id(asset_id, version=v.version).object["writer"] for v in versions}
    assert written == {"first", 0, 1, 2, 3}


def test_delete_removes_every_version_and_its_objects(store, stack):
    asset_id = store.save_asset(Asset(b"v1", "doomed", "other"))
    store.save_asset(Asset(b"v2", "doomed", "other"), overwrite=True)
    keep_id = store.save_asset(Asset(b"keep", "kept", "other"))
    assert len(_asset_objects(stack)) >= 3

    assert store.delete_asset(asset_id) == 2

    with pytest.raises(NotFoundError):
        store.get_asset_by_id(asset_id)
    with pytest.raises(NotFoundError):
        store.list_asset_versions(asset_id)
    assert [a.id for a in store.get_assets()] == [keep_id]
    owner = store.get_asset_by_id(keep_id).owner
    assert [key for key in _asset_objects(stack) if key.startswith(f"assets/{owner}/")] == [
        _key_of(store, keep_id)
    ]
    # the label is free again
    assert store.save_asset(Asset(b"v3", "doomed", "other")) != asset_id
    with pytest.raises(NotFoundError):
        store.delete_asset(asset_id)


def test_a_large_object_goes_up_in_parts_and_comes_back_whole(store):
    payload = np.random.default_rng(7).bytes(17 * 1024 * 1024)  # above the single-PUT limit
    store.save_asset(Asset(payload, "big blob", "other"))
    assert store.get_asset("big blob", "other").object == payload


def _asset_objects(stack) -> list[str]:
    """Every object version key in the assets bucket (deleted objects leave no version behind)."""
    from stepstore_functions.resources import ASSETS_BUCKET

    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint_url, region_name="us-east-1")
    bucket = ASSETS_BUCKET.physical_name("local")
    listing = s3.list_object_versions(Bucket=bucket)
    return sorted(v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", []))


def _key_of(store: StoreInterface, asset_id: str) -> str:
    url = store._api.get(f"/assets/{asset_id}")["url"]
    return url.split("?", 1)[0].split("/", 4)[4]


def test_a_version_saved_by_asset_id_may_relabel_the_asset_and_frees_the_old_label(store):
    asset_id = store.save_asset(Asset({"v": 1}, "draft name", "other"))
    store.save_asset(Asset({"v": 2}, "final name", "other"), overwrite=True, asset_id=asset_id)

    assert store.get_asset("final name", "other").id == asset_id
    with pytest.raises(NotFoundError):
        store.get_asset("draft name", "other")
    other_id = store.save_asset(Asset({"v": 3}, "draft name", "other"))  # the old label is free again
    assert other_id != asset_id
    with pytest.raises(ConflictError, match=f"belongs to asset {other_id}"):
        store.save_asset(Asset({"v": 4}, "draft name", "other"), overwrite=True, asset_id=asset_id)
