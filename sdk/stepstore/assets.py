"""Assets: typed objects (models, datasets, schemas, explainers, any object) that outlive their flow.

Save one with ``StoreInterface.save_asset`` and find it later by label, type and name::

    from stepstore import Dataset, Model

    data = Dataset(frame, label="churn", categorical_cols=["plan"], predict_cols=["age", "plan"])
    store.save_asset(data)
    model = Model(fitted, label="churn")
    model.link_asset("training data", data)      # links survive the save and the load
    store.save_asset(model)

How an object is stored is decided here and recorded with it: DataFrames and Series as Parquet,
bytes as they are, JSON-able values (dict, list, str, numbers, bool, None) as JSON, and only what
needs it (fitted models, explainers, arbitrary objects) as pickle. Loading a pickle runs code
chosen by whoever saved it: load pickled assets only from owners you trust.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from stepstore.errors import InvalidInputError


class AssetType(StrEnum):
    """What kind of object an asset holds; `get_asset` returns the matching class."""

    MODEL = "model"
    DATASET = "dataset"
    SCHEMA = "schema"
    EXPLAINER = "explainer"
    NLPROCESSOR = "nlprocessor"
    KNOWLEDGE_GRAPH = "knowledge_graph"
    DATASTORE = "datastore"
    OTHER = "other"


def asset_type(value: Any) -> AssetType:
    """`value` as an AssetType; a string is accepted by value or member name ("dataset", "DATASET")."""
    if isinstance(value, AssetType):
        return value
    if isinstance(value, str):
        text = value.strip()
        for member in AssetType:
            if text.lower() == member.value or text.upper() == member.name:
                return member
    valid = ", ".join(m.name for m in AssetType)
    raise InvalidInputError(f"asset type {value!r} is not one of {valid}", field="type")


@dataclass(frozen=True)
class AssetInfo:
    """What the store records about one asset version, without its object."""

    asset_id: str
    version: int
    type: AssetType
    label: str
    name: str | None
    owner: str
    format: str
    size: int
    created_at: str
    description: str | None = None

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> AssetInfo:
        return cls(
            asset_id=body["asset_id"],
            version=int(body["version"]),
            type=asset_type(body["type"]),
            label=body["label"],
            name=body.get("name"),
            owner=body["owner"],
            format=body["format"],
            size=int(body["size"]),
            created_at=body["created_at"],
            description=body.get("description"),
        )


class Asset:
    """An object with a label, a type and metadata, kept by the store beyond the flow that made it.

    Args:
        object: what the asset holds.
        label: what it is about (e.g. "Jet engine N41"); label and type identify an asset of its owner.
        type: an :class:`AssetType` (or its name); ``OTHER`` for a generic object.
        metadata: JSON-able facts to keep with it.
        name: tells versions or variants apart; `get_asset(name=...)` finds by it.
        description: free text.
        version: set by the store when the asset is saved or loaded (1, 2, ...).

    After a save or a load, ``id``, ``version``, ``owner`` and ``time_created`` say which stored
    version this is. Link other saved assets with :meth:`link_asset`.
    """

    def __init__(
        self,
        object: Any,
        label: str,
        type: AssetType | str,
        metadata: dict | None = None,
        name: str | None = None,
        description: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(label, str) or not label.strip():
            raise InvalidInputError(f"an asset needs a non-empty str label, got {label!r}", field="label")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidInputError(
                f"asset metadata must be a dict, got {builtin_type(metadata).__name__}", field="metadata"
            )
        if name is not None and not isinstance(name, str):
            raise InvalidInputError(f"asset name must be a str, got {name!r}", field="name")
        self.object = object
        self.label = label
        self.type = asset_type(type)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.name = name
        self.description = description
        self.version = version
        self.id: str | None = None
        self.owner: str | None = None
        self.time_created: str | None = None
        self.linked_asset_objects: dict[str, str] = {}
        self.user_notes: dict[str, Any] = {}
        self.engineer_notes: dict[str, Any] = {}
        for key, value in kwargs.items():
            self.metadata.setdefault(key, value)

    def __repr__(self) -> str:
        return (
            f"{builtin_type(self).__name__}(label={self.label!r}, type={self.type.name}, name={self.name!r}, "
            f"id={self.id!r}, version={self.version!r})"
        )

    def __eq__(self, other: object) -> bool:
        """Same class, label, type, name, metadata, description, id, version and links (not the objects)."""
        if not isinstance(other, Asset):
            return NotImplemented
        return builtin_type(self) is builtin_type(other) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((self.type, self.label, self.name, self.id, self.version))

    def _identity(self) -> tuple[Any, ...]:
        return (
            self.type,
            self.label,
            self.name,
            self.metadata,
            self.description,
            self.id,
            self.version,
            self.linked_asset_objects,
        )

    def get_object(self) -> Any:
        """The object this asset holds."""
        return self.object

    def set_description(self, description: str) -> None:
        """Replace the asset's description."""
        self.description = description

    def link_asset(self, label: str, asset: Asset) -> None:
        """Link a saved asset under `label` (e.g. a model to its training data); kept across save and load."""
        if not isinstance(asset, Asset):
            raise InvalidInputError(
                f"link {label!r} must be an Asset, got {builtin_type(asset).__name__}", field="links"
            )
        if asset.id is None:
            raise InvalidInputError(
                f"cannot link {asset!r} as {label!r}: save it first, so that it has an id", field="links"
            )
        self.linked_asset_objects[str(label)] = asset.id

    def add_notes(self, dict_type: str, key: str | None = None, notes: str | None = None) -> None:
        """Add notes to ``user_notes`` or ``engineer_notes`` (`dict_type` "user" or "engineer").

        Without a key, the text is appended to that dictionary's "log" list.
        """
        target = {"user": self.user_notes, "engineer": self.engineer_notes}.get(str(dict_type).split("_")[0])
        if target is None:
            raise InvalidInputError(f"notes go to 'user' or 'engineer', not {dict_type!r}", field="dict_type")
        if key is None:
            target.setdefault("log", []).append(notes)
        else:
            target[key] = notes

    def add_user_notes(self, key: str | None = None, notes: str | None = None) -> None:
        """Add a note for the people who use this asset."""
        self.add_notes("user", key, notes)

    def add_engineer_notes(self, key: str | None = None, notes: str | None = None) -> None:
        """Add a note for the engineers who maintain this asset."""
        self.add_notes("engineer", key, notes)

    # How the asset travels. Subclasses extend these three.

    def _attributes(self) -> dict[str, Any]:
        """The class's own settings, stored as JSON beside the metadata."""
        return {"user_notes": self.user_notes, "engineer_notes": self.engineer_notes}

    def _encode(self) -> Encoded:
        return encode_object(self.object, what=f"asset {self.label!r}")

    @classmethod
    def _restore(cls, body: dict[str, Any], obj: Any) -> Self:
        """Rebuild an asset of this class from the stored record and its decoded object."""
        asset = cls.__new__(cls)
        Asset.__init__(
            asset,
            obj,
            body["label"],
            body["type"],
            metadata=body.get("metadata"),
            name=body.get("name"),
            description=body.get("description"),
            version=int(body["version"]),
        )
        attributes = body.get("attributes") or {}
        asset.user_notes = dict(attributes.get("user_notes") or {})
        asset.engineer_notes = dict(attributes.get("engineer_notes") or {})
        asset.id = body["asset_id"]
        asset.owner = body.get("owner")
        asset.time_created = body.get("created_at")
        asset.linked_asset_objects = dict(body.get("links") or {})
        asset._restore_attributes(attributes)
        return asset

    def _restore_attributes(self, attributes: dict[str, Any]) -> None:
        """Set the class's own settings from what `_attributes` stored."""


builtin_type = type  # `type` is a parameter name in this module's public signatures


class Dataset(Asset):
    """A DataFrame with what a data scientist knows about its columns, stored as Parquet.

    Args:
        dataset: the DataFrame (dtypes and index are kept).
        label, metadata, name, description, version: as for :class:`Asset`.
        encoding: how categorical features are encoded: "ordinal", "one_hot" or "verbose".
        one_hot_dict: categorical feature -> its one-hot columns.
        cat_to_vals: categorical feature -> its possible values.
        categorical_cols: the categorical features.
        predict_cols: the columns a model uses (`filter_data` keeps just these).

    `StoreInterface.get_dataset(label, columns=[...])` reads only those columns from storage.
    """

    ENCODINGS = ("ordinal", "one_hot", "verbose")

    def __init__(
        self,
        dataset: Any,
        label: str,
        metadata: dict | None = None,
        name: str | None = None,
        encoding: str = "ordinal",
        one_hot_dict: dict[str, list[str]] | None = None,
        cat_to_vals: dict[str, list[Any]] | None = None,
        categorical_cols: list[str] | None = None,
        predict_cols: list[str] | None = None,
        description: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        import pandas as pd

        if not isinstance(dataset, pd.DataFrame):
            raise InvalidInputError(
                f"Dataset {label!r} needs a pandas DataFrame, got {builtin_type(dataset).__name__}",
                field="dataset",
            )
        encoding = str(getattr(encoding, "value", encoding))
        if encoding not in self.ENCODINGS:
            raise InvalidInputError(
                f"encoding {encoding!r} is not one of {', '.join(self.ENCODINGS)}", field="encoding"
            )
        columns = set(dataset.columns)
        for field_name, given in (("categorical_cols", categorical_cols), ("predict_cols", predict_cols)):
            missing = [c for c in (given or []) if c not in columns and c not in (one_hot_dict or {})]
            if missing:
                raise InvalidInputError(
                    f"{field_name} of Dataset {label!r} names columns it does not have: {missing}",
                    field=field_name,
                )
        super().__init__(dataset, label, AssetType.DATASET, metadata, name, description, version, **kwargs)
        self.encoding = encoding
        self.one_hot_dict = one_hot_dict
        self.cat_to_vals = cat_to_vals
        self.categorical_cols = list(categorical_cols) if categorical_cols is not None else None
        self.predict_cols = list(predict_cols) if predict_cols is not None else None

    @property
    def dataset(self) -> Any:
        """The DataFrame."""
        return self.object

    def filter_data(self, X: Any = None) -> Any:
        """`X` (default: this dataset) narrowed to the prediction columns; needs `predict_cols`."""
        if self.predict_cols is None:
            raise InvalidInputError(
                f"Dataset {self.label!r} has no predict_cols to filter by", field="predict_cols"
            )
        frame = self.object if X is None else X
        missing = [c for c in self.predict_cols if c not in frame.columns]
        if missing:
            raise InvalidInputError(f"the data lacks prediction columns {missing} of Dataset {self.label!r}")
        return frame[self.predict_cols]

    def get_categorical_names(self, predict_cols: bool = False) -> list[str]:
        """The categorical columns; with `predict_cols`, only those that are also prediction columns."""
        names = list(self.categorical_cols or [])
        if predict_cols and self.predict_cols is not None:
            names = [n for n in names if n in self.predict_cols]
        return names

    def _attributes(self) -> dict[str, Any]:
        return {
            **super()._attributes(),
            "encoding": self.encoding,
            "one_hot_dict": to_json_value(self.one_hot_dict, "one_hot_dict"),
            "cat_to_vals": to_json_value(self.cat_to_vals, "cat_to_vals"),
            "categorical_cols": self.categorical_cols,
            "predict_cols": self.predict_cols,
        }

    def _encode(self) -> Encoded:
        return encode_object(self.object, what=f"Dataset {self.label!r}")

    def _restore_attributes(self, attributes: dict[str, Any]) -> None:
        self.encoding = attributes.get("encoding", "ordinal")
        self.one_hot_dict = attributes.get("one_hot_dict")
        self.cat_to_vals = attributes.get("cat_to_vals")
        self.categorical_cols = attributes.get("categorical_cols")
        self.predict_cols = attributes.get("predict_cols")


class Model(Asset):
    """A fitted (or unfitted) model. Attribute access passes through: ``Model(clf, "churn").predict(X)``.

    The model is stored with pickle, so it loads in an environment with the same libraries.
    """

    def __init__(
        self,
        model: Any,
        label: str,
        metadata: dict | None = None,
        name: str | None = None,
        description: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, label, AssetType.MODEL, metadata, name, description, version, **kwargs)

    @property
    def model(self) -> Any:
        """The wrapped model."""
        return self.object

    def __getattr__(self, attr: str) -> Any:
        # Only reached when normal lookup fails; never while the wrapper itself is being built.
        if attr.startswith("__") or "object" not in self.__dict__:
            raise AttributeError(attr)
        return getattr(self.__dict__["object"], attr)

    def _encode(self) -> Encoded:
        return encode_pickle(self.object, what=f"Model {self.label!r}")


class Schema(Asset):
    """The columns and dtypes a DataFrame must have, and optionally the values it may hold.

    Args:
        schema: a Series of column name -> dtype (a dtype or its name, e.g. "int64", "float64", "str").
        exact_match: the DataFrame may have no other columns (and, with `valid_inputs`, every column
            needs an entry there).
        valid_inputs: column -> [min, max] for numeric columns, or the list of allowed values for
            the others; None skips these checks.
        label, metadata, name, description, version: as for :class:`Asset`.

    `validate(df)` returns True or raises :class:`SchemaViolation` (a ValueError) naming the first
    column that breaks the schema and how.
    """

    def __init__(
        self,
        schema: Any = None,
        exact_match: bool = False,
        valid_inputs: dict[str, list] | None = None,
        label: str | None = None,
        metadata: dict | None = None,
        name: str | None = None,
        description: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        import pandas as pd

        if schema is None:
            schema = pd.Series(dtype=object)
        elif isinstance(schema, dict):
            schema = pd.Series(schema, dtype=object)
        if not isinstance(schema, pd.Series):
            raise InvalidInputError(
                f"schema must be a Series of column -> dtype, got {builtin_type(schema).__name__}"
            )
        col_to_dtype = {}
        for column, dtype in schema.items():
            try:
                col_to_dtype[str(column)] = pd.api.types.pandas_dtype(dtype)
            except TypeError as error:
                raise InvalidInputError(
                    f"schema column {column!r} has {dtype!r}, which is not a dtype"
                ) from error
        if valid_inputs is not None:
            unknown = [c for c in valid_inputs if c not in col_to_dtype]
            if unknown:
                raise InvalidInputError(
                    f"valid_inputs names columns the schema lacks: {unknown}", field="valid_inputs"
                )
            if exact_match and set(valid_inputs) != set(col_to_dtype):
                lacking = sorted(set(col_to_dtype) - set(valid_inputs))
                raise InvalidInputError(
                    f"exact_match needs valid_inputs for every column; none for {lacking}"
                )
        # A schema may be built before it has a label; save_asset insists on one.
        super().__init__(
            schema, label or "schema", AssetType.SCHEMA, metadata, name, description, version, **kwargs
        )
        self.label = label  # type: ignore[assignment]
        self.exact_match = bool(exact_match)
        self.valid_inputs = valid_inputs
        self.do_level_2 = valid_inputs is not None
        self.col_to_dtype = col_to_dtype

    def validate(self, df: Any) -> bool:
        """True if `df` fits the schema; otherwise SchemaViolation naming the first problem found."""
        self.validate_level_1(df)
        if self.do_level_2:
            self.validate_level_2(df)
        return True

    def validate_level_1(self, df: Any) -> bool:
        """Columns present (and no others with exact_match) with the expected dtypes."""
        missing = [c for c in self.col_to_dtype if c not in df.columns]
        if missing:
            raise SchemaViolation(f"schema {self.label!r}: the DataFrame lacks columns {missing}")
        if self.exact_match:
            extra = [c for c in df.columns if c not in self.col_to_dtype]
            if extra:
                raise SchemaViolation(
                    f"schema {self.label!r} is an exact match; the DataFrame also has {extra}"
                )
        for column, expected in self.col_to_dtype.items():
            actual = df[column].dtype
            if getattr(expected, "categories", False) is None and isinstance(actual, builtin_type(expected)):
                continue  # "category" with no categories given: any categorical column fits
            if actual != expected:
                raise SchemaViolation(
                    f"schema {self.label!r}: column {column!r} has dtype {actual}, expected {expected}"
                )
        return True

    def validate_level_2(self, df: Any) -> bool:
        """Numeric columns within [min, max]; other columns only take the allowed values."""
        import pandas as pd

        for column, allowed in (self.valid_inputs or {}).items():
            values = df[column]
            if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
                low, high = allowed
                outside = values[(values < low) | (values > high)]
                if len(outside):
                    raise SchemaViolation(
                        f"schema {self.label!r}: column {column!r} has {_plain(outside.iloc[0])!r} at row "
                        f"{outside.index[0]!r}, outside [{low}, {high}]"
                    )
            else:
                bad = values[~values.isin(list(allowed))]
                if len(bad):
                    raise SchemaViolation(
                        f"schema {self.label!r}: column {column!r} has {_plain(bad.iloc[0])!r} "
                        f"at row {bad.index[0]!r}, "
                        f"not one of {list(allowed)}"
                    )
        return True

    def _attributes(self) -> dict[str, Any]:
        return {
            **super()._attributes(),
            "exact_match": self.exact_match,
            "valid_inputs": to_json_value(self.valid_inputs, "valid_inputs"),
        }

    def _encode(self) -> Encoded:
        columns = {column: str(dtype) for column, dtype in self.col_to_dtype.items()}
        return Encoded("schema", "json", json.dumps({"columns": columns}).encode())

    @classmethod
    def _restore(cls, body: dict[str, Any], obj: Any) -> Self:
        import pandas as pd

        attributes = body.get("attributes") or {}
        schema = cls(
            pd.Series(obj["columns"], dtype=object),
            exact_match=attributes.get("exact_match", False),
            valid_inputs=attributes.get("valid_inputs"),
            label=body["label"],
        )
        restored = super()._restore(body, schema.object)
        restored.exact_match = schema.exact_match
        restored.valid_inputs = schema.valid_inputs
        restored.do_level_2 = schema.do_level_2
        restored.col_to_dtype = schema.col_to_dtype
        return restored


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for messages people read."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


class SchemaViolation(InvalidInputError):
    """A DataFrame does not fit a Schema; the message names the column and the problem."""


class Explainer(Asset):
    """An explainer (e.g. a SHAP explainer) with the model and the dataset it explains.

    Args:
        explainer: the explainer object.
        label, metadata, name, description, version: as for :class:`Asset`.
        model: the model it explains (a :class:`Model` or the bare model).
        dataset: the data it explains (a :class:`Dataset` or a DataFrame).

    The three are stored together with pickle. A `model` or `dataset` that is a saved asset is
    also linked as "model" or "dataset".
    """

    def __init__(
        self,
        explainer: Any,
        label: str,
        model: Any = None,
        dataset: Any = None,
        metadata: dict | None = None,
        name: str | None = None,
        description: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            explainer, label, AssetType.EXPLAINER, metadata, name, description, version, **kwargs
        )
        self.model = model
        self.dataset = dataset
        for link, part in (("model", model), ("dataset", dataset)):
            if isinstance(part, Asset) and part.id is not None:
                self.link_asset(link, part)

    @property
    def explainer(self) -> Any:
        """The explainer object."""
        return self.object

    def _encode(self) -> Encoded:
        def bare(part: Any) -> Any:
            return part.object if isinstance(part, Asset) else part

        bundle = {"explainer": self.object, "model": bare(self.model), "dataset": bare(self.dataset)}
        return encode_pickle(bundle, what=f"Explainer {self.label!r}", kind="explainer")

    @classmethod
    def _restore(cls, body: dict[str, Any], obj: Any) -> Self:
        bundle = obj if isinstance(obj, dict) else {"explainer": obj}
        restored = super()._restore(body, bundle.get("explainer"))
        restored.model = bundle.get("model")
        restored.dataset = bundle.get("dataset")
        return restored


# What a typed class's object must have been stored as for the class to be rebuilt around it.
_KIND_OF_CLASS: dict[type[Asset], str] = {}

CLASS_OF_TYPE: dict[AssetType, type[Asset]] = {
    AssetType.DATASET: Dataset,
    AssetType.MODEL: Model,
    AssetType.SCHEMA: Schema,
    AssetType.EXPLAINER: Explainer,
}
_KIND_OF_CLASS.update({Dataset: "dataframe", Schema: "schema", Explainer: "explainer"})


# Serialisation: which format an object is stored in, and back.


@dataclass(frozen=True)
class Encoded:
    """An object's stored form: what it was (`kind`), how it is stored (`format`) and its bytes.

    Tables carry `write` instead of `payload`: it writes the Parquet file to a sink row group by
    row group, so a large frame can stream into a multipart upload without ever being held whole.
    """

    kind: str
    format: str
    payload: Any  # bytes, or a buffer that memoryview reads without a copy; None when `write` is set
    write: Callable[[Any], None] | None = None
    size_hint: int = 0

    def parquet_payload(self) -> Any:
        """The bytes to store; a table is written to Parquet in an Arrow buffer (no extra copy)."""
        if self.write is None:
            return self.payload
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        self.write(sink)
        return sink.getvalue()


def encode_object(obj: Any, what: str) -> Encoded:
    """Parquet for DataFrames and Series, raw for bytes, JSON for exact JSON values, pickle otherwise."""
    from stepstore import formats

    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        encoded = _frame_writer(obj, what)
        return encoded if encoded is not None else encode_pickle(obj, what, kind="dataframe")
    try:
        tabular = formats.arrow_table(obj, what)
    except InvalidInputError:  # e.g. a Series of mixed types: pickle keeps it exactly
        return encode_pickle(obj, what)
    if tabular is not None:
        kind, table = tabular
        return Encoded(kind, "parquet", None, write=lambda sink: formats.write_parquet(table, sink))
    if isinstance(obj, bytes | bytearray):
        return Encoded("bytes", "raw", bytes(obj))
    if isinstance(obj, io.BytesIO):
        return Encoded("bytesio", "raw", obj.getvalue())
    if _exact_json(obj):
        return Encoded("json", "json", json.dumps(obj, separators=(",", ":")).encode())
    return encode_pickle(obj, what)


# Rows per Parquet row group (and per Arrow conversion) of a Dataset: pyarrow's default, which the
# 1 GB benchmark found ~2x faster to write than 256K-row groups, for ~60 MB more peak memory.
FRAME_ROW_GROUP_ROWS = 1024 * 1024


def _frame_writer(frame: Any, what: str) -> Encoded | None:
    """A Parquet writer for `frame` that converts it to Arrow one row group at a time.

    Converting slice by slice (against the schema inferred from the whole frame, which also keeps
    a RangeIndex as metadata) means the frame is never copied whole into Arrow: saving a 1 GB frame
    needs little more than the frame. None when Parquet cannot hold the frame exactly.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not all(isinstance(c, str) for c in frame.columns):
        return None  # Parquet column names are strings
    try:
        schema = pa.Schema.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError):
        return None

    def write(sink: Any) -> None:
        rows = FRAME_ROW_GROUP_ROWS
        with pq.ParquetWriter(sink, schema) as writer:
            for offset in range(0, max(len(frame), 1), rows):
                try:
                    piece = pa.Table.from_pandas(
                        frame.iloc[offset : offset + rows], schema=schema, preserve_index=None
                    )
                except (pa.ArrowException, TypeError, ValueError) as error:
                    raise InvalidInputError(f"cannot store {what} as Parquet: {error}") from error
                writer.write_table(piece)

    size = int(frame.memory_usage(index=True, deep=False).sum())
    return Encoded("dataframe", "parquet", None, write=write, size_hint=size)


def encode_pickle(obj: Any, what: str, kind: str = "object") -> Encoded:
    try:
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError) as error:
        cls = builtin_type(obj)
        raise InvalidInputError(
            f"cannot store {what}: its {cls.__module__}.{cls.__qualname__} cannot be pickled ({error})"
        ) from error
    return Encoded(kind, "pickle", payload)


def _exact_json(value: Any) -> bool:
    """True when JSON gives back exactly this value (no tuples, non-str keys, NaN or numpy types)."""
    if value is None or builtin_type(value) in (str, bool, int):
        return True
    if builtin_type(value) is float:
        return math.isfinite(value)
    if builtin_type(value) is list:
        return all(_exact_json(v) for v in value)
    if builtin_type(value) is dict:
        return all(builtin_type(k) is str and _exact_json(v) for k, v in value.items())
    return False


def to_json_value(value: Any, field_name: str) -> Any:
    """`value` with numpy scalars and tuples turned into plain JSON values; anything else refused."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): to_json_value(v, field_name) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_json_value(v, field_name) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays, pandas Index (not 0-d scalars)
    if callable(tolist) and getattr(value, "shape", ()) != ():
        return to_json_value(tolist(), field_name)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return to_json_value(item(), field_name)
    raise InvalidInputError(
        f"{field_name} holds a {builtin_type(value).__name__}, which is not JSON", field=field_name
    )


def decode_object(kind: str, data_format: str, payload: Any) -> Any:
    """The object `encode_object` (or an asset class) was given, rebuilt from its stored bytes."""
    if data_format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(pa.BufferReader(payload))
        if kind == "series":
            from stepstore import formats

            return formats._series_from_table(table)
        return table.to_pandas()
    if data_format == "json":
        return json.loads(bytes(payload))
    if data_format == "raw":
        return io.BytesIO(bytes(payload)) if kind == "bytesio" else bytes(payload)
    if data_format == "pickle":
        return pickle.loads(payload)
    raise InvalidInputError(f"unknown stored format {data_format!r} for a {kind}")


def restore_asset(body: dict[str, Any], obj: Any) -> Asset:
    """The typed asset (Dataset, Model, Schema, Explainer or Asset) for a stored record and its object."""
    cls = CLASS_OF_TYPE.get(asset_type(body["type"]), Asset)
    needs = _KIND_OF_CLASS.get(cls)
    if needs is not None and body["kind"] != needs:
        cls = Asset  # e.g. Asset(3, "x", AssetType.SCHEMA): typed, but not a Schema object
    return cls._restore(body, obj)


def describe_time(value: str | datetime | None) -> str | None:
    """A time_created as the API takes it (ISO 8601)."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
