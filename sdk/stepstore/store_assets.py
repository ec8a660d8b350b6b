"""StoreInterface's assets: save_asset, get_asset, get_assets, get_model, ..., sharing and versions.

Bytes go straight between the SDK and S3 through presigned URLs; the API records a version only
once S3 holds exactly the bytes declared, so a save is all or nothing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stepstore import streaming, transfer
from stepstore.assets import (
    Asset,
    AssetInfo,
    AssetType,
    Dataset,
    Explainer,
    Model,
    Schema,
    asset_type,
    decode_object,
    describe_time,
    restore_asset,
)
from stepstore.client import CONNECT_TIMEOUT, PAGE, READ_TIMEOUT, segment
from stepstore.errors import ForbiddenError, IntegrityError, InvalidInputError, ServiceError

if TYPE_CHECKING:
    from stepstore.client import ApiClient

Progress = Callable[[int], None]
CHUNK_BYTES = 8 * 1024 * 1024


class AssetMethods:
    """Mixed into StoreInterface; uses its `_api`, `flow_id` and `step_name`."""

    _api: ApiClient
    flow_id: str
    step_name: str

    def save_asset(self, asset: Asset, overwrite: bool = False, asset_id: str | None = None) -> str:
        """Persist `asset`; returns its id (also set on the asset with its new version and time).

        Same label and type already saved by you: ConflictError (a ValueError) naming that asset, unless
        `overwrite`, which adds a new version (`asset_id` names the asset to add it to; one that does not
        exist or is not yours is refused). The save is all or nothing: the bytes are verified in storage
        before the version becomes visible. An object that cannot be stored: ValueError naming its type.
        """
        body = upload_asset(self._api, asset, overwrite=overwrite, asset_id=asset_id)
        return body["asset_id"]

    def get_asset(
        self,
        label: str | None = None,
        type: AssetType | str | None = None,
        name: str | None = None,
        time_created: str | datetime | None = None,
        asset_id: str | None = None,
        columns: Sequence[str] | None = None,
        owner: str | None = None,
    ) -> Asset:
        """The newest asset version matching every filter given: your own when any of yours matches,
        else one shared with you. Sharing never changes what your own lookups return: another user's
        asset with the type and label of one of yours is found only when `owner` names them.

        `name` and `time_created` (exact) may match an older version. Label and type both None (and
        no asset_id): ValueError. Nothing matches: NotFoundError (a ValueError). For a dataset,
        `columns` reads only those columns from storage.
        """
        if label is None and type is None and asset_id is None:
            raise InvalidInputError("get_asset needs a label or a type (or an asset_id)", field="label")
        params = _filters(label, type, name, asset_id, owner)
        if time_created is not None:
            params["time_created"] = describe_time(time_created)
        return load_asset(self._api.get("/assets/match", **params), columns=columns, api=self._api)

    def get_assets(
        self,
        label: str | None = None,
        type: AssetType | str | None = None,
        name: str | None = None,
        asset_id: str | None = None,
        owner: str | None = None,
    ) -> list[Asset]:
        """Every asset you own or that is shared with you matching the filters (current versions,
        newest first); no filter: all of them. Each comes with its object loaded. A shared asset with
        the type and label of one of yours is left out unless `owner` names its owner."""
        return [
            load_asset(body, api=self._api) for body in self._list_assets(label, type, name, asset_id, owner)
        ]

    def list_assets(
        self,
        label: str | None = None,
        type: AssetType | str | None = None,
        name: str | None = None,
        asset_id: str | None = None,
        owner: str | None = None,
    ) -> list[AssetInfo]:
        """Like `get_assets`, but only what the store records about each (no objects are read)."""
        return [AssetInfo.from_api(body) for body in self._list_assets(label, type, name, asset_id, owner)]

    def _list_assets(
        self,
        label: str | None,
        type: AssetType | str | None,
        name: str | None,
        asset_id: str | None,
        owner: str | None = None,
    ) -> list[dict[str, Any]]:
        found = self._api.get_all(
            "/assets", "assets", limit=PAGE, **_filters(label, type, name, asset_id, owner)
        )
        return sorted(found, key=lambda a: a["created_at"], reverse=True)  # own and shared, newest first

    def get_asset_by_id(
        self, asset_id: str, version: int | None = None, columns: Sequence[str] | None = None
    ) -> Asset:
        """That asset (its current version, or `version`), if you own it or it is shared with you."""
        path = f"/assets/{segment(asset_id)}"
        if version is not None:
            path += f"/versions/{int(version)}"
        return load_asset(self._api.get(path), columns=columns, api=self._api)

    def get_model(self, label: str | None = None, name: str | None = None, owner: str | None = None) -> Model:
        """The newest Model asset with this label (and name); yours first (see `get_asset`)."""
        return self.get_asset(label, AssetType.MODEL, name, owner=owner)  # type: ignore[return-value]

    def get_dataset(
        self,
        label: str | None = None,
        name: str | None = None,
        columns: Sequence[str] | None = None,
        owner: str | None = None,
    ) -> Dataset:
        """The newest Dataset asset with this label (and name), yours first (see `get_asset`);
        `columns` reads only those from storage."""
        return self.get_asset(label, AssetType.DATASET, name, columns=columns, owner=owner)  # type: ignore[return-value]

    def get_schema(
        self, label: str | None = None, name: str | None = None, owner: str | None = None
    ) -> Schema:
        """The newest Schema asset with this label (and name); yours first (see `get_asset`)."""
        return self.get_asset(label, AssetType.SCHEMA, name, owner=owner)  # type: ignore[return-value]

    def get_explainer(
        self, label: str | None = None, name: str | None = None, owner: str | None = None
    ) -> Explainer:
        """The newest Explainer asset with this label (and name); yours first (see `get_asset`)."""
        return self.get_asset(label, AssetType.EXPLAINER, name, owner=owner)  # type: ignore[return-value]

    def list_asset_versions(self, asset_id: str) -> list[AssetInfo]:
        """Every version of an asset you own or that is shared with you, newest first."""
        versions = self._api.get_all(f"/assets/{segment(asset_id)}/versions", "assets", limit=PAGE)
        return [AssetInfo.from_api(v) for v in versions]

    def delete_asset(self, asset_id: str) -> int:
        """Delete the asset: every version's object and metadata (yours only); returns how many versions."""
        return int(self._api.delete(f"/assets/{segment(asset_id)}")["versions"])

    def share_asset(self, asset_id: str, user: str) -> None:
        """Let `user` read every version of your asset (they cannot change or delete it)."""
        self._api.put(f"/assets/{segment(asset_id)}/shares/{segment(user)}")

    def unshare_asset(self, asset_id: str, user: str) -> None:
        """Stop sharing your asset with `user`."""
        self._api.delete(f"/assets/{segment(asset_id)}/shares/{segment(user)}")

    def list_asset_shares(self, asset_id: str) -> list[str]:
        """The users your asset is shared with."""
        shares = self._api.get_all(f"/assets/{segment(asset_id)}/shares", "shares", limit=PAGE)
        return [s["grantee"] for s in shares]


def _filters(
    label: str | None,
    kind: AssetType | str | None,
    name: str | None,
    asset_id: str | None,
    owner: str | None = None,
) -> dict[str, Any]:
    given = {
        "label": label,
        "type": asset_type(kind).value if kind is not None else None,
        "name": name,
        "asset_id": asset_id,
        "owner": owner,
    }
    return {k: v for k, v in given.items() if v is not None}


def upload_asset(
    api: ApiClient,
    asset: Asset,
    overwrite: bool = False,
    asset_id: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Encode, upload and commit one asset version; sets id, version, owner and time on `asset`."""
    if not isinstance(asset, Asset):
        raise InvalidInputError(f"save_asset takes an Asset, got {type(asset).__name__}", field="asset")
    if not isinstance(asset.label, str) or not asset.label.strip():
        raise InvalidInputError(f"{asset!r} needs a non-empty label before it is saved", field="label")
    fields = {
        "type": asset.type.value,
        "label": asset.label,
        "name": asset.name,
        "description": asset.description,
        "metadata": asset.metadata,
        "attributes": asset._attributes(),
        "links": dict(asset.linked_asset_objects),
        "overwrite": bool(overwrite),
        "asset_id": asset_id,
    }
    encoded = asset._encode()  # before any request: an unstorable object fails with nothing sent
    if encoded.write is not None and encoded.size_hint > streaming.STREAM_ABOVE_BYTES:
        # A very large frame: Parquet row groups go to S3 while later ones are still being encoded.
        body = streaming.upload_stream(
            api,
            "/assets",
            encoded.kind,
            encoded.format,
            encoded.write,
            size_hint=encoded.size_hint,
            fields=fields,
        )
    elif encoded.write is not None:
        # A frame: written whole while the upload is opened, then one PUT hashed on the way.
        body = streaming.upload_produced(
            api, "/assets", encoded.kind, encoded.format, encoded.write, fields=fields, progress=progress
        )
    else:
        body = transfer.upload(
            api,
            "/assets",
            encoded.kind,
            encoded.format,
            encoded.parquet_payload(),
            fields=fields,
            progress=progress,
        )
    asset.id = body["asset_id"]
    asset.version = int(body["version"])
    asset.owner = body["owner"]
    asset.time_created = body["created_at"]
    return body


TRUSTED_PICKLE_OWNERS_ENV = "STEPSTORE_TRUSTED_PICKLE_OWNERS"


def check_pickle_trust(body: dict[str, Any], api: ApiClient | None) -> None:
    """Refuse to unpickle an asset someone else saved, unless its owner is trusted.

    Unpickling runs code the saver chose, and sharing needs no consent from the one shared with,
    so another user's pickled asset loads only when ``STEPSTORE_TRUSTED_PICKLE_OWNERS`` names its
    owner (comma-separated; ``*`` trusts everyone).
    """
    if body.get("format") != "pickle":
        return
    owner = body.get("owner")
    trusted = {o.strip() for o in os.environ.get(TRUSTED_PICKLE_OWNERS_ENV, "").split(",") if o.strip()}
    if owner in trusted or "*" in trusted or (api is not None and owner == api.caller()):
        return
    raise ForbiddenError(
        f"asset {body.get('label')!r} (version {body.get('version')}) is a pickle saved by {owner!r}: "
        f"loading it would run code they chose. Set {TRUSTED_PICKLE_OWNERS_ENV}={owner} to trust them"
    )


def load_asset(
    body: dict[str, Any],
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    *,
    api: ApiClient | None = None,
) -> Asset:
    """The typed asset a record describes, its object read from storage (only `columns` of a dataset).

    A pickle saved by another user loads only from a trusted owner (see `check_pickle_trust`).
    """
    check_pickle_trust(body, api)
    if columns is not None:
        columns = list(columns)
    if body["format"] == "parquet" and body["kind"] == "dataframe":
        if columns is not None:  # range reads: the footer, then only the wanted column chunks
            frame = read_parquet(body["url"], body["size"], body["etag"], columns, progress)
        else:
            frame = read_parquet_whole(body["url"], body["size"], body["etag"], progress)
        return restore_asset(body, frame)
    payload = read_object(body, progress)
    obj = decode_object(body["kind"], body["format"], payload)
    if columns is not None:
        obj = _select(obj, columns, body)
    return restore_asset(body, obj)


def read_object(body: dict[str, Any], progress: Progress | None = None) -> bytes:
    """The stored bytes of an asset version, checked against its recorded size and ETag."""
    return transfer.download(body["url"], body["size"], body["etag"], progress=progress)


def _select(obj: Any, columns: list[str], body: dict[str, Any]) -> Any:
    available = list(getattr(obj, "columns", []))
    if not available:
        raise InvalidInputError(
            f"asset {body['label']!r} is a {body['kind']}, not a table: it has no columns"
        )
    missing = [c for c in columns if c not in available]
    if missing:
        raise InvalidInputError(
            f"dataset {body['label']!r} has no columns {missing}; it has {available}", field="columns"
        )
    return obj[columns]


def read_parquet(
    url: str, size: int, etag: str, columns: list[str] | None = None, progress: Progress | None = None
) -> Any:
    """A stored Parquet DataFrame (only `columns` and the index, if given), read with HTTP range requests.

    The footer comes first, then just the byte ranges of the wanted column chunks, so a narrow read
    of a wide table moves a fraction of its bytes, and no read holds the whole file at once.
    """
    import pyarrow.parquet as pq

    with RangeFile(url, size, etag, progress) as source:
        parquet = pq.ParquetFile(source, pre_buffer=True)
        if columns is not None:
            names = parquet.schema_arrow.names
            missing = [c for c in columns if c not in names]
            if missing:
                shown = [n for n in names if not n.startswith("__index_level_")]
                raise InvalidInputError(
                    f"the dataset has no columns {missing}; it has {shown}", field="columns"
                )
        table = parquet.read(columns=columns, use_pandas_metadata=True)
    # self_destruct frees each Arrow column once converted, so the peak is not two full copies.
    return table.to_pandas(self_destruct=True, split_blocks=True)


def read_parquet_whole(url: str, size: int, etag: str, progress: Progress | None = None) -> Any:
    """A stored Parquet DataFrame, fetched with one GET into a buffer of its exact size.

    The body streams into that buffer (no joined copy), the buffer is dropped once Arrow has
    decoded it, and the Arrow columns are freed as they become pandas columns, so the peak stays
    near one copy of the file plus one of the frame.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = download_into_buffer(url, size, etag, progress)
    table = pq.read_table(pa.py_buffer(buffer))
    del buffer
    return table.to_pandas(self_destruct=True, split_blocks=True)


def download_into_buffer(url: str, size: int, etag: str, progress: Progress | None = None) -> bytearray:
    """The object's bytes in a preallocated buffer, checked against its recorded size and ETag."""
    response = transfer._with_retries(
        "download",
        lambda: transfer._s3_session().get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)),
    )
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    try:
        for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
            end = filled + len(chunk)
            if end > size:
                raise IntegrityError(f"downloaded object is larger than the {size} bytes recorded for it")
            view[filled:end] = chunk
            filled = end
            if progress is not None:
                progress(len(chunk))
    finally:
        response.close()
        view.release()
    got_etag = response.headers.get("ETag", "").strip('"')
    if filled != size or (got_etag and got_etag != etag):
        raise IntegrityError(
            f"downloaded object does not match its record: {filled} bytes with ETag {got_etag!r}, "
            f"expected {size} bytes with ETag {etag!r}"
        )
    return buffer


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over a presigned GET URL: every read is one HTTP range request.

    Each response must carry the object's recorded ETag, so a read never mixes two versions.
    ``bytes_read`` and ``requests`` count what moved.
    """

    def __init__(self, url: str, size: int, etag: str, progress: Progress | None = None) -> None:
        super().__init__()
        self.url = url
        self.size = size
        self.etag = etag
        self.progress = progress
        self.position = 0
        self.bytes_read = 0
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        data = self._fetch(self.position, end)
        self.position = end
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def _fetch(self, start: int, end: int) -> bytes:
        def attempt() -> Any:
            return transfer._s3_session().get(
                self.url,
                headers={"Range": f"bytes={start}-{end - 1}"},
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )

        response = transfer._with_retries("ranged download", attempt)
        got_etag = response.headers.get("ETag", "").strip('"')
        data = response.content
        if response.status_code == 200 and len(data) == self.size:
            data = data[start:end]  # a server that ignores Range sends it all
        elif response.status_code != 206:
            raise ServiceError(f"S3 ranged download failed: HTTP {response.status_code}")
        if (got_etag and got_etag != self.etag) or len(data) != end - start:
            raise IntegrityError(
                f"bytes {start}-{end - 1} do not match the stored object: {len(data)} bytes with ETag "
                f"{got_etag!r}, expected {end - start} bytes with ETag {self.etag!r}"
            )
        self.requests += 1
        self.bytes_read += len(data)
        if self.progress is not None:
            self.progress(len(data))
        return data
