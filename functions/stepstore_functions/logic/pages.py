"""Pages, element values, DataSource uploads and step actions.

A step stores its page (update_page); its user reads it with the values they set, sets input values
(validated against the element), uploads files to DataSources, and runs the step's action.

Where the DataFrame comes from (API handlers never import pandas): the action checks, here and with
the standard library only, that each DataSource's file has a format the DataSource allows and looks
like that format (CSV: UTF-8 rows no wider than the header; JSON: an object or array; Parquet and Excel:
their magic bytes), refusing the action with a clear 422 otherwise (the raw bytes stay). It then records
that the action ran and under which output name each DataSource's DataFrame belongs. The parse itself
runs in the SDK, where pandas already is: the SDK's `run_action` (and the CLI's `stepstore action`)
converts every upload right after the action; a front end's action is converted by the first
`get_element_value` on that DataSource. Either way the Parquet result is saved as an output of the
DataSource's step, so it is on the next step's in-link, and later reads reuse it. That keeps one parser
(pandas, in the SDK), no extra function to deploy or invoke, and the API's cold start small.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zlib
from datetime import UTC, datetime
from typing import Any

from stepstore_functions.dal import outputs as output_store
from stepstore_functions.dal import pages as page_store
from stepstore_functions.dal.blobs import BlobStore
from stepstore_functions.dal.tables import utcnow
from stepstore_functions.logic.flows import get_step, step_position
from stepstore_functions.logic.uploads import Ticket, open_upload, verify_upload
from stepstore_functions.models.domain import Actor, Step, valid_name
from stepstore_functions.models.errors import ConflictError, InvalidInputError, NotFoundError
from stepstore_functions.models.pages import (
    FILE_FORMATS,
    MAX_FILE_NAME,
    MAX_INLINE_PAGE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_VALUE_BYTES,
    ActionRecord,
    PendingBlob,
    StoredPage,
    StoredValue,
    parsed_output_names,
)
from stepstore_functions.settings import get_settings

INPUT_TYPES = frozenset({"data_source", "dropdown", "text_input", "numeric_range", "date_time_range"})
SNIFF_BYTES = 64 * 1024
# How many elements earlier steps may register for one step's page.
MAX_FUTURE_ELEMENTS = 100
JSON_FULL_CHECK_BYTES = 1024 * 1024
_MAX_LISTED_OPTIONS = 20


def _data_blobs() -> BlobStore:
    return BlobStore.of(get_settings().data_bucket)


def element_key(head: dict[str, Any]) -> str:
    """Values are kept under the element's reference_id (stable when the page is rebuilt), else its id."""
    return head.get("reference_id") or head["id"]


def describe(head: dict[str, Any]) -> str:
    name = head.get("reference_id") or head.get("title") or head["id"]
    return f"{head.get('type', 'element')} {name!r}"


# The page layout


def manifest_of(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Every element of a page JSON without its content; ids present, ids and reference_ids unique."""
    if not isinstance(page.get("sections", []), list):
        raise InvalidInputError("page.sections must be a list", field="page")
    heads = []
    for s, section in enumerate(page.get("sections") or []):
        cards = section.get("cards") if isinstance(section, dict) else None
        if not isinstance(cards, list):
            raise InvalidInputError(f"page.sections[{s}] needs a list of cards", field="page")
        for c, card in enumerate(cards):
            content = card.get("content") if isinstance(card, dict) else None
            if not isinstance(content, list):
                raise InvalidInputError(
                    f"page.sections[{s}].cards[{c}] needs a list of content", field="page"
                )
            for e, element in enumerate(content):
                if not isinstance(element, dict):
                    raise InvalidInputError(
                        f"page.sections[{s}].cards[{c}].content[{e}] is not an element", "page"
                    )
                heads.append({k: v for k, v in element.items() if k != "content"})
    check_manifest(heads)
    return heads


def check_manifest(heads: list[dict[str, Any]]) -> None:
    ids: set[str] = set()
    references: dict[str, str] = {}
    for head in heads:
        element_id, kind = head.get("id"), head.get("type")
        if not isinstance(element_id, str) or not element_id or len(element_id) > 128 or "#" in element_id:
            raise InvalidInputError(
                f"element {head.get('title')!r} needs an id (1-128 characters, no '#')", "page"
            )
        if not isinstance(kind, str) or not kind:
            raise InvalidInputError(f"element {element_id!r} needs a type", field="page")
        if kind in INPUT_TYPES:
            head["input"] = True  # a page written by another client may leave the flag out
        if element_id in ids:
            raise InvalidInputError(f"two elements on the page have id {element_id!r}", field="page")
        ids.add(element_id)
        reference = head.get("reference_id")
        if reference:
            if not isinstance(reference, str) or "#" in reference or len(reference) > 128:
                raise InvalidInputError(f"reference_id {reference!r} must be text without '#'", field="page")
            if reference in references:
                raise InvalidInputError(
                    f"reference_id {reference!r} is used by two elements on the page "
                    f"({references[reference]!r} and {head.get('title')!r}); reference ids must be unique",
                    field="page",
                )
            references[reference] = head.get("title") or element_id


def update_page(
    actor: Actor,
    flow_id: str,
    step_name: str,
    page: dict[str, Any] | None,
    blob_id: str | None,
    title: str | None,
    elements: list[dict[str, Any]] | None,
) -> StoredPage:
    """Store the step's page layout and advance the step's page version. Values the user set live in
    their own items, so nothing they set is touched."""
    get_step(actor, flow_id, step_name)
    if (page is None) == (blob_id is None):
        raise InvalidInputError("give either page (inline) or blob_id (an uploaded page)", field="page")
    blobs = _data_blobs()
    if page is not None:
        manifest = manifest_of(page)
        inline = json.dumps(page, separators=(",", ":"), allow_nan=False)
        if len(inline.encode()) > MAX_INLINE_PAGE_BYTES:
            raise InvalidInputError(
                f"an inline page is at most {MAX_INLINE_PAGE_BYTES} bytes, not {len(inline.encode())}: "
                "upload it through /page/uploads",
                field="page",
            )
        page_title, key, size, etag = str(page.get("title") or ""), None, len(inline.encode()), ""
    else:
        if elements is None:
            raise InvalidInputError(
                "a page given by blob_id needs its elements (without content)", "elements"
            )
        manifest = [{k: v for k, v in e.items() if k != "content"} for e in elements]
        check_manifest(manifest)
        upload = page_store.get_upload(blob_id or "")
        if (
            upload is None
            or not upload.verified
            or upload.purpose != "page"
            or (
                upload.owner,
                upload.flow_id,
                upload.step_name,
            )
            != (actor.user, flow_id, step_name)
        ):
            raise NotFoundError(
                f"page upload {blob_id!r} for step {step_name!r} not found (or not committed)"
            )
        inline, page_title, key, size, etag = None, title or "", upload.key, upload.size, upload.etag
    manifest_bytes = len(json.dumps(manifest, separators=(",", ":")).encode())
    if manifest_bytes > MAX_MANIFEST_BYTES:
        raise InvalidInputError(
            f"the page's elements without their content take {manifest_bytes} bytes; "
            f"at most {MAX_MANIFEST_BYTES} "
            "(keep long option lists out of dropdowns)",
            field="page",
        )
    if key is not None:
        blobs.mark_committed(key)
    written = page_store.store_page(
        actor.user,
        flow_id,
        step_name,
        StoredPage(
            version=0,
            title=page_title,
            manifest=manifest,
            updated_at=utcnow(),
            inline=inline,
            key=key,
            size=size,
            etag=etag,
        ),
    )
    if written is None:
        raise NotFoundError(f"step {step_name!r} not found in flow {flow_id!r}")
    stored, replaced = written
    if blob_id is not None:
        page_store.delete_upload(blob_id)
    if replaced is not None and replaced.key and replaced.key != key:
        blobs.retire(replaced.key)  # nobody's now; a reader holding its URL still has a day
    return stored


def start_page_upload(
    actor: Actor, flow_id: str, step_name: str, size: int, etag: str, part_size: int | None
) -> Ticket:
    """Presigned URLs for a page too large to send inline."""
    get_step(actor, flow_id, step_name)
    return _start_blob(actor, flow_id, step_name, "page", f"pages/{actor.user}", size, etag, part_size)


def _start_blob(
    actor: Actor,
    flow_id: str,
    step_name: str,
    purpose: str,
    prefix: str,
    size: int,
    etag: str,
    part_size: int | None,
    **extra: Any,
) -> Ticket:
    opened = open_upload(_data_blobs(), prefix, size, etag, part_size)
    page_store.create_upload(
        PendingBlob(
            upload_id=opened.upload_id,
            purpose=purpose,  # type: ignore[arg-type]
            owner=actor.user,
            flow_id=flow_id,
            step_name=step_name,
            key=opened.key,
            size=size,
            etag=etag,
            part_count=opened.part_count,
            multipart_id=opened.multipart_id,
            **extra,
        )
    )
    return opened.ticket


def commit_blob(
    actor: Actor, flow_id: str, step_name: str, upload_id: str, parts: list[tuple[int, str]], purpose: str
) -> PendingBlob:
    """Check that the uploaded object is complete and matches its declared size and ETag."""
    upload = page_store.get_upload(upload_id)
    if (
        upload is None
        or upload.purpose != purpose
        or (upload.owner, upload.flow_id, upload.step_name) != (actor.user, flow_id, step_name)
    ):
        raise NotFoundError(f"upload {upload_id!r} on step {step_name!r} not found")
    if upload.verified:
        return upload
    verify_upload(
        _data_blobs(),
        upload.key,
        upload.multipart_id,
        parts,
        upload.part_count,
        upload.size,
        upload.etag,
        f"the {purpose} of step {step_name!r} (upload {upload_id})",
        forget=lambda: page_store.delete_upload(upload_id),
    )
    page_store.mark_upload_verified(upload_id)
    return upload


# Reading


def page_version(actor: Actor, flow_id: str, step_name: str) -> Step:
    """The step, whose page_version says whether a viewer's copy of the page is current."""
    return get_step(actor, flow_id, step_name)


def read_page(actor: Actor, flow_id: str, step_name: str) -> dict[str, Any]:
    """The step's page with the user's values: inline layout (values merged) or a presigned URL."""
    step = get_step(actor, flow_id, step_name)
    everything = page_store.read_step_page(actor.user, flow_id, step_name)
    stored, values, futures = everything.page, everything.values, everything.futures
    by_id: dict[str, Any] = {}
    manifest = stored.manifest if stored else []
    for head in [*manifest, *futures]:
        found = values.get(element_key(head))
        if found is not None and head.get("input"):
            by_id[head["id"]] = found.value
    view: dict[str, Any] = {
        "flow_id": flow_id,
        "step_name": step_name,
        "version": step.page_version,
        "title": stored.title if stored else "",
        "stored": "none",
        "values": by_id,
        "future_elements": _unplaced(manifest, futures, values),
        "updated_at": stored.updated_at if stored else None,
    }
    if stored is None:
        return view
    view.update(size=stored.size, etag=stored.etag)
    if stored.inline is not None:
        page = json.loads(stored.inline)
        for section in page.get("sections") or []:
            for card in section.get("cards") or []:
                for element in card.get("content") or []:
                    if element.get("id") in by_id:
                        element["value"] = by_id[element["id"]]
        view.update(stored="inline", page=page)
    else:
        view.update(stored="s3", url=_data_blobs().presign_download(stored.key or ""))
    return view


def _unplaced(
    manifest: list[dict[str, Any]], futures: list[dict[str, Any]], values: dict[str, StoredValue]
) -> list[dict[str, Any]]:
    """Future elements that the page does not hold yet (by id or reference_id), with their values."""
    ids = {h["id"] for h in manifest}
    references = {h.get("reference_id") for h in manifest if h.get("reference_id")}
    unplaced = []
    for element in futures:
        if element["id"] in ids or (element.get("reference_id") and element["reference_id"] in references):
            continue
        found = values.get(element_key(element))
        unplaced.append({**element, "value": found.value} if found is not None else element)
    return unplaced


def _heads(actor: Actor, flow_id: str, step_name: str) -> list[dict[str, Any]]:
    return _heads_of(page_store.read_step_page(actor.user, flow_id, step_name))


def _heads_of(everything: page_store.StepPage) -> list[dict[str, Any]]:
    manifest = everything.page.manifest if everything.page else []
    return [*manifest, *_unplaced(manifest, everything.futures, {})]


def find_head(heads: list[dict[str, Any]], key: str, step_name: str) -> dict[str, Any]:
    """The element whose id, reference_id or title is `key` (preferred in that order)."""
    for field in ("id", "reference_id", "title"):
        matches = [h for h in heads if h.get(field) == key]
        if len(matches) > 1 and field == "title":
            raise ConflictError(
                f"{len(matches)} elements on the page of step {step_name!r} are titled {key!r}: "
                "use an id or reference_id"
            )
        if matches:
            return matches[0]
    raise NotFoundError(f"element {key!r} not found on the page of step {step_name!r}")


def read_element(actor: Actor, flow_id: str, step_name: str, key: str) -> dict[str, Any]:
    """One element's head with the user's value, its upload (DataSources) and the step's last action."""
    step_position(actor, flow_id, step_name)  # the step exists (known once seen, so usually free)
    everything = page_store.read_step_page(actor.user, flow_id, step_name)
    head = dict(find_head(_heads_of(everything), key, step_name))
    found = everything.values.get(element_key(head))
    upload = None
    if found is not None:
        head["value"] = found.value
        if found.upload_key:
            upload = {**found.value, "url": _data_blobs().presign_download(found.upload_key)}
    action = everything.action
    return {
        "step_name": step_name,
        "element": head,
        "upload": upload,
        "action": _action_view(step_name, action) if action else None,
    }


def _action_view(step_name: str, action: ActionRecord) -> dict[str, Any]:
    return {"step_name": step_name, "ran_at": action.ran_at, "data_sources": action.data_sources}


# Values


def set_value(actor: Actor, flow_id: str, step_name: str, key: str, value: Any) -> dict[str, Any]:
    """Set an input element's value, once it passes the element's own rules."""
    get_step(actor, flow_id, step_name)
    head = find_head(_heads(actor, flow_id, step_name), key, step_name)
    if head.get("type") == "data_source":
        raise InvalidInputError(
            f"{describe(head)} on step {step_name!r} takes a file: upload it through "
            f"/elements/{head['id']}/files/<file name>/uploads",
            field="value",
        )
    normalised = validate_value(head, value)
    encoded = json.dumps(normalised, separators=(",", ":"))
    if len(encoded.encode()) > MAX_VALUE_BYTES:
        raise InvalidInputError(f"a value is at most {MAX_VALUE_BYTES} bytes of JSON", field="value")
    page_store.put_value(
        actor.user,
        flow_id,
        step_name,
        StoredValue(element_key(head), head["id"], normalised, utcnow(), actor.principal),
    )
    return read_element(actor, flow_id, step_name, head["id"])


def _allowed(options: list[Any]) -> str:
    shown = ", ".join(json.dumps(o) for o in options[:_MAX_LISTED_OPTIONS])
    more = f" and {len(options) - _MAX_LISTED_OPTIONS} more" if len(options) > _MAX_LISTED_OPTIONS else ""
    return f"[{shown}{more}]"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def validate_value(head: dict[str, Any], value: Any) -> Any:
    """The value as stored, or InvalidInputError naming the element and what it allows."""
    kind = head.get("type")
    params = head.get("params") or {}
    name = describe(head)
    if not head.get("input") or kind not in INPUT_TYPES:
        raise InvalidInputError(f"{name} is not an input element; it has no value to set", field="value")
    if kind == "dropdown":
        options = params.get("options") or []
        picked = value if isinstance(value, list) else ([] if value is None else [value])
        for item in picked:
            # bool is an int to Python; an option list of numbers must not accept true.
            if not any((item == o and type(item) is type(o)) or _same_number(item, o) for o in options):
                raise InvalidInputError(
                    f"{name} cannot take {json.dumps(item)}: allowed values are {_allowed(options)}",
                    field="value",
                )
        if len({json.dumps(p) for p in picked}) != len(picked):
            raise InvalidInputError(f"{name}: each option may be picked once", field="value")
        if not params.get("multiselect") and len(picked) > 1:
            raise InvalidInputError(
                f"{name} takes one value, got {len(picked)}: allowed values are {_allowed(options)}",
                field="value",
            )
        limit = params.get("max_selections")
        if limit is not None and len(picked) > limit:
            raise InvalidInputError(f"{name} takes at most {limit} values, got {len(picked)}", field="value")
        return picked
    if kind == "text_input":
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} takes text, got {type(value).__name__}", field="value")
        return value
    if kind == "numeric_range":
        low, high = params.get("min_range"), params.get("max_range")
        if not (_is_number(low) and _is_number(high)):
            raise InvalidInputError(
                f"{name} has no numeric min_range and max_range to check against", field="value"
            )
        bounds = f"numbers from {low} to {high}"
        if params.get("single"):
            if not _is_number(value) or not low <= value <= high:
                raise InvalidInputError(
                    f"{name} cannot take {json.dumps(value)}: allowed values are {bounds}", "value"
                )
            return value
        if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
            raise InvalidInputError(
                f"{name} takes [low, high], {bounds}; got {json.dumps(value)}", field="value"
            )
        if not low <= value[0] <= value[1] <= high:
            raise InvalidInputError(
                f"{name} cannot take {json.dumps(value)}: allowed values are {bounds}, low <= high",
                field="value",
            )
        return value
    if kind == "date_time_range":
        low, high = _moment(params.get("min_range")), _moment(params.get("max_range"))
        if low is None or high is None:
            raise InvalidInputError(
                f"{name} has no ISO-time min_range and max_range to check against", field="value"
            )
        bounds = f"ISO times from {params.get('min_range')} to {params.get('max_range')}"
        picked = value if params.get("is_range", True) else [value]
        if not isinstance(picked, list) or len(picked) != (2 if params.get("is_range", True) else 1):
            shape = "[start, end]" if params.get("is_range", True) else "one ISO time"
            raise InvalidInputError(f"{name} takes {shape}, {bounds}; got {json.dumps(value)}", field="value")
        moments = [_moment(v) for v in picked]
        if any(m is None for m in moments) or not all(low <= m <= high for m in moments):  # type: ignore[operator]
            raise InvalidInputError(
                f"{name} cannot take {json.dumps(value)}: allowed values are {bounds}", "value"
            )
        if len(moments) == 2 and moments[0] > moments[1]:  # type: ignore[operator]
            raise InvalidInputError(
                f"{name}: the start {picked[0]} is after the end {picked[1]}", field="value"
            )
        return [m.isoformat() for m in moments] if params.get("is_range", True) else moments[0].isoformat()  # type: ignore[union-attr]
    raise InvalidInputError(f"{name} takes no value", field="value")


def _same_number(a: Any, b: Any) -> bool:
    return _is_number(a) and _is_number(b) and a == b


# DataSource files


def file_format(file_name: str, declared: str) -> str:
    lowered = file_name.lower()
    if lowered.endswith(".gz") and lowered[:-3].rsplit(".", 1)[-1] in ("csv", "json"):
        lowered = lowered[:-3]  # sales.csv.gz is a gzipped CSV: its format is csv (the SDK inflates it)
    extension = lowered.rsplit(".", 1)[-1] if "." in lowered else declared.lower().lstrip(".")
    return FILE_FORMATS.get(extension, extension or "unknown")


def start_file_upload(
    actor: Actor,
    flow_id: str,
    step_name: str,
    key: str,
    file_name: str,
    declared_format: str,
    size: int,
    etag: str,
    part_size: int | None,
) -> Ticket:
    """Presigned URLs for a file the user gives a DataSource."""
    get_step(actor, flow_id, step_name)
    head = find_head(_heads(actor, flow_id, step_name), key, step_name)
    if head.get("type") != "data_source":
        raise InvalidInputError(
            f"{describe(head)} on step {step_name!r} is not a DataSource", field="element"
        )
    if not file_name or len(file_name) > MAX_FILE_NAME or any(ord(ch) < 32 for ch in file_name):
        raise InvalidInputError(
            f"file name must be 1-{MAX_FILE_NAME} printable characters", field="file_name"
        )
    return _start_blob(
        actor,
        flow_id,
        step_name,
        "file",
        f"datasources/{actor.user}",
        size,
        etag,
        part_size,
        element_id=head["id"],
        file_name=file_name,
        file_format=file_format(file_name, declared_format),
    )


def commit_file_upload(
    actor: Actor, flow_id: str, step_name: str, key: str, upload_id: str, parts: list[tuple[int, str]]
) -> dict[str, Any]:
    """Make a verified upload the DataSource's value (the file it held before is deleted)."""
    get_step(actor, flow_id, step_name)
    head = find_head(_heads(actor, flow_id, step_name), key, step_name)
    upload = commit_blob(actor, flow_id, step_name, upload_id, parts, "file")
    if upload.element_id != head["id"]:
        raise NotFoundError(f"upload {upload_id!r} is not for {describe(head)} on step {step_name!r}")
    blobs = _data_blobs()
    blobs.mark_committed(upload.key)
    value = {
        "file_name": upload.file_name,
        "format": upload.file_format,
        "size": upload.size,
        "etag": upload.etag,
        "uploaded_at": utcnow().isoformat(),
    }
    previous = page_store.put_value(
        actor.user,
        flow_id,
        step_name,
        StoredValue(element_key(head), head["id"], value, utcnow(), actor.principal, upload_key=upload.key),
    )
    page_store.delete_upload(upload_id)
    if previous is not None and previous.upload_key and previous.upload_key != upload.key:
        blobs.retire(previous.upload_key)
    return read_element(actor, flow_id, step_name, head["id"])


# The step's action


def output_name(head: dict[str, Any]) -> str:
    """The name a DataSource's DataFrame has on the next step's in-link: reference_id, title or id."""
    for candidate in (head.get("reference_id"), head.get("title")):
        if candidate:
            try:
                return valid_name("name", candidate)
            except InvalidInputError:
                continue
    return f"data-source-{head['id']}"


def run_action(actor: Actor, flow_id: str, step_name: str) -> dict[str, Any]:
    """Check every DataSource's file (present when required, an allowed format, parseable at a glance)
    and record that the action ran. Refused as a whole, naming each problem; no upload is touched."""
    get_step(actor, flow_id, step_name)
    everything = page_store.read_step_page(actor.user, flow_id, step_name)
    heads = [h for h in _heads_of(everything) if h.get("type") == "data_source"]
    values = everything.values
    problems: list[str] = []
    sources = []
    for head in heads:
        params = head.get("params") or {}
        found = values.get(element_key(head))
        upload = found.value if found is not None and found.upload_key else None
        if upload is None:
            if params.get("required", True):
                problems.append(f"DataSource {head.get('title')!r} needs a file")
        else:
            allowed = [str(o) for o in params.get("options") or ["csv"]]
            fmt = upload.get("format") or "unknown"
            if "*" not in allowed and fmt not in allowed:
                problems.append(
                    f"DataSource {head.get('title')!r} takes {', '.join(allowed)}; "
                    f"{upload.get('file_name')!r} is {fmt}"
                )
            elif not params.get("raw_upload"):
                trouble = sniff(fmt, found.upload_key or "", int(upload.get("size") or 0))
                if trouble:
                    problems.append(
                        f"DataSource {head.get('title')!r}: {upload.get('file_name')!r} {trouble}"
                    )
        sources.append(
            {
                "element_id": head["id"],
                "title": head.get("title") or "",
                "reference_id": head.get("reference_id"),
                "file_name": upload.get("file_name") if upload else None,
                "format": upload.get("format") if upload else None,
                "raw_upload": bool(params.get("raw_upload")),
                "output_name": output_name(head),
            }
        )
    if problems:
        raise InvalidInputError(
            f"the action of step {step_name!r} cannot run: "
            + "; ".join(problems)
            + (" (the uploaded files are kept)" if any(d["file_name"] for d in sources) else ""),
            field="data_source",
        )
    action = ActionRecord(ran_at=utcnow(), data_sources=sources)
    page_store.put_action(actor.user, flow_id, step_name, action)
    # A DataFrame parsed from an earlier run's file is out of date now: it leaves the out-link, so the
    # next step's in-link read finds the new file pending and has it parsed.
    position = step_position(actor, flow_id, step_name)
    for name in parsed_output_names(sources):
        replaced = output_store.delete_pointer(actor.user, flow_id, name, position)
        if replaced is not None and replaced.key:
            _data_blobs().retire(replaced.key)
    return _action_view(step_name, action)


def sniff(fmt: str, key: str, size: int) -> str | None:
    """Why the file at `key` will not parse as `fmt`, judged from its first bytes; None if it looks fine."""
    if size == 0:
        return "is empty"
    if fmt in ("xlsx", "xls", "parquet"):
        head = page_store.read_range(key, 0, 7)
        if fmt == "xlsx" and not head.startswith(b"PK\x03\x04"):
            return "is not an Excel (xlsx) workbook"
        if fmt == "xls" and not head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            return "is not an Excel (xls) workbook"
        if fmt == "parquet" and (not head.startswith(b"PAR1") or page_store.read_tail(key, 4) != b"PAR1"):
            return "is not a Parquet file"
        return None
    if fmt in ("csv", "json"):
        head = page_store.read_range(key, 0, SNIFF_BYTES - 1)
        if head.startswith(GZIP_MAGIC):
            # A gzipped CSV or JSON file: judge its first inflated bytes (the SDK bounds the rest).
            inflated = _inflate_head(head)
            if inflated is None:
                return "is not a valid gzip file"
            return sniff_csv(inflated, False) if fmt == "csv" else sniff_json(inflated, False)
    if fmt == "csv":
        return sniff_csv(page_store.read_range(key, 0, SNIFF_BYTES - 1), size <= SNIFF_BYTES)
    if fmt == "json":
        whole = size <= JSON_FULL_CHECK_BYTES
        return sniff_json(page_store.read_range(key, 0, (size if whole else SNIFF_BYTES) - 1), whole)
    return None


GZIP_MAGIC = b"\x1f\x8b"


def _inflate_head(head: bytes) -> bytes | None:
    """At most SNIFF_BYTES of what a gzip file's first bytes inflate to; None if they are not gzip."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
    except zlib.error:
        return None


def sniff_csv(head: bytes, whole: bool) -> str | None:
    if not whole:
        head = head[: head.rfind(b"\n") + 1] or head
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if whole or error.start < len(head) - 4:
            return f"is not UTF-8 text (byte {error.start})"
        text = head[: error.start].decode("utf-8-sig")
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
    except csv.Error as error:
        return f"is not CSV: {error}"
    if not rows:
        return "has no header row"
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > width:
            return f"is not CSV: row {number} has {len(row)} fields, the header has {width}"
    return None


def sniff_json(head: bytes, whole: bool) -> str | None:
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if not text.startswith(("{", "[")):
        return "is not JSON (a DataFrame needs an object or an array)"
    if whole:
        try:
            json.loads(text)
        except ValueError as error:
            return f"is not JSON: {error}"
        except RecursionError:
            return "is JSON nested too deeply to read"
    return None


# Future elements


def add_future_element(actor: Actor, flow_id: str, step_name: str, element: dict[str, Any]) -> str:
    """Register an element for a later step's page; that step need not exist yet."""
    valid_name("flow_id", flow_id)
    valid_name("step_name", step_name)
    heads = [{k: v for k, v in element.items() if k != "content"}]
    check_manifest(heads)
    if len(json.dumps(element).encode()) > MAX_INLINE_PAGE_BYTES:
        raise InvalidInputError(f"a future element is at most {MAX_INLINE_PAGE_BYTES} bytes", field="element")
    if element.get("type") in INPUT_TYPES and not element.get("input"):
        element = {**element, "input": True}
    # Every read of the step's page carries its future elements: bounded, so every read is.
    registered = page_store.future_element_ids(actor.user, flow_id, step_name, MAX_FUTURE_ELEMENTS)
    if len(registered) >= MAX_FUTURE_ELEMENTS and str(element["id"]) not in registered:
        raise ConflictError(
            f"step {step_name!r} of flow {flow_id!r} has {MAX_FUTURE_ELEMENTS} future elements, "
            "the most a step may have"
        )
    page_store.put_future_element(actor.user, flow_id, step_name, element)
    return str(element["id"])
