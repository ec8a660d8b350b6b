"""StoreInterface: what a flow's step uses to keep and find everything it makes."""

from __future__ import annotations

import math
import numbers
from typing import IO, Any

from stepstore import formats, streaming, transfer
from stepstore.client import PAGE, ApiClient, segment
from stepstore.errors import InvalidInputError, NotFoundError
from stepstore.status import FlowStatus, StepState, StepStatus, read_flow
from stepstore.store_assets import AssetMethods
from stepstore.store_connections import ConnectionMethods
from stepstore.store_pages import PageMethods

# The API's answer for an input that is a DataSource file not parsed yet (see get_input).
PENDING_INPUT = "pending_input"
# JSON values up to this size are stored inline with their pointer; anything larger goes to S3.
MAX_INLINE_BYTES = 64 * 1024


class StoreInterface(AssetMethods, PageMethods, ConnectionMethods):
    """The store as one step of one flow sees it.

    Args:
        flow_id: the flow (one run of an app) this step belongs to.
        user: the user to act for; None means the user the token belongs to. Only admin and
            service tokens may name another user.
        step_name: this step; named for the first time, it is appended to the flow. None means
            the flow's current step.
        is_action: True when the code runs as the step's action (after its user submitted it).
        bucket_name: a bucket that `get_s3_asset` reads from.

    The API address and token come from ``STEPSTORE_API_URL`` and ``STEPSTORE_TOKEN``.
    """

    def __init__(
        self,
        flow_id: str,
        user: str | None = None,
        step_name: str | None = None,
        is_action: bool = False,
        bucket_name: str | None = None,
    ) -> None:
        self.flow_id = flow_id
        self.user = user
        self.is_action = is_action
        self.bucket_name = bucket_name
        self._api = ApiClient.from_environment(user=user)
        self._flow_path = f"/flows/{segment(flow_id)}"
        if step_name is None:
            step = self._api.get(f"{self._flow_path}/current-step")
        else:
            step = self._api.put(f"{self._flow_path}/steps/{segment(step_name)}")
        self._step = StepState.from_api(step)
        self.step_name: str = self._step.name

    def __repr__(self) -> str:
        return f"StoreInterface(flow_id={self.flow_id!r}, step_name={self.step_name!r}, user={self.user!r})"

    def _step_path(self, step_name: str | None = None) -> str:
        return f"{self._flow_path}/steps/{segment(step_name or self.step_name)}"

    # Outputs and inputs

    def save_output(self, data: Any, name: str) -> None:
        """Save `data` under `name` on this step's out-link, replacing what this step saved there before.

        DataFrame and Series keep dtypes and index (Parquet); dict, int, float, bool and str come back
        exactly (JSON); BytesIO comes back byte for byte. Anything else raises ValueError naming its type,
        and nothing is stored.
        """
        what = f"output {name!r}"
        prefix = f"{self._step_path()}/outputs/{segment(name)}"
        tabular = formats.arrow_table(data, what)
        if tabular is not None:
            kind, table = tabular

            def produce(sink: IO[bytes]) -> None:
                formats.write_parquet(table, sink)

            if table.nbytes > streaming.STREAM_ABOVE_BYTES:
                # Very large frames: row groups go to S3 as parts while later ones are encoded.
                streaming.upload_stream(self._api, prefix, kind, "parquet", produce, table.nbytes)
            else:
                streaming.upload_produced(self._api, prefix, kind, "parquet", produce)
            return
        encoded = formats.encode(data, what=what)
        if encoded.format == "json" and len(encoded.payload) <= MAX_INLINE_BYTES:
            self._api.put(prefix, {"kind": encoded.kind, "value_json": encoded.json_text})
        else:
            transfer.upload(self._api, prefix, encoded.kind, encoded.format, encoded.payload)

    def get_input(self, name: str, step_name: str | None = None) -> Any:
        """What `save_output` stored under `name`, equal to what went in.

        Without `step_name`, from this step's in-link (the latest earlier step that saved `name`);
        with it, from that step's own out-link. An unknown name raises NotFoundError (a ValueError).
        """
        if step_name is None:
            path = f"{self._step_path()}/inputs/{segment(name)}"
        else:
            path = f"{self._step_path(step_name)}/outputs/{segment(name)}"
        try:
            return self._load(self._api.get(path))
        except NotFoundError as missing:
            # A DataSource file whose action a front end ran is on the in-link too, parsed on first read.
            if missing.code != PENDING_INPUT or not self._parse_pending_data_source(name):
                raise
        return self._load(self._api.get(path))

    def has_input(self, name: str) -> bool:
        """True when `name` is on this step's in-link."""
        try:
            self._api.get(f"{self._step_path()}/inputs/{segment(name)}")
        except NotFoundError as missing:
            return missing.code == PENDING_INPUT  # a DataSource file not parsed yet is on the in-link
        return True

    def list_inputs(self) -> dict[str, str]:
        """Every name on this step's in-link, with the step that produced it."""
        return self._api.get_all(f"{self._step_path()}/inputs", "inputs", limit=PAGE)

    def list_outputs(self, step_name: str | None = None) -> list[dict[str, Any]]:
        """What this step (or `step_name`) saved: name, kind, format, size and time of each output."""
        outputs = self._api.get_all(f"{self._step_path(step_name)}/outputs", "outputs", limit=PAGE)
        return [{k: v for k, v in o.items() if k not in ("url", "value_json")} for o in outputs]

    @staticmethod
    def _load(pointer: dict[str, Any]) -> Any:
        if pointer.get("value_json") is not None:
            payload = pointer["value_json"].encode()
        else:
            payload = transfer.download(pointer["url"], pointer["size"], pointer["etag"])
        return formats.decode(pointer["kind"], pointer["format"], payload)

    # Flow and progress

    @property
    def step_state(self) -> StepState:
        """This step as of its last change through this StoreInterface: position, status, progress."""
        return self._step

    def get_previous_step_name(self) -> str | None:
        """The step before this one in the flow, or None for the first."""
        return self._step.previous_step

    def get_flow_status(self) -> FlowStatus:
        """Every step of the flow with its status, progress and message."""
        return FlowStatus.from_api(read_flow(self._api, self._flow_path))

    def update_progress(self, completion: float, message: str, page_update: bool = False) -> bool:
        """Record this step's progress (0-100) and a message; True once stored.

        One small request: cheap enough to call in a loop. `page_update` tells viewers that the
        step's page changed too.
        """
        if (
            isinstance(completion, bool)
            or not isinstance(completion, numbers.Real)
            or not math.isfinite(completion)
            or not 0 <= completion <= 100
        ):
            raise InvalidInputError(
                f"completion must be a number from 0 to 100, got {completion!r}", field="completion"
            )
        self._api.put(
            f"{self._step_path()}/progress",
            {"completion": float(completion), "message": str(message), "page_update": bool(page_update)},
        )
        return True

    def set_step_status(self, status: StepStatus | str, message: str | None = None) -> StepState:
        """Mark this step pending, running, completed or failed (the flow runner does this for you)."""
        try:
            value = StepStatus(status)
        except ValueError as error:
            valid = ", ".join(s.value for s in StepStatus)
            raise InvalidInputError(f"status {status!r} is not one of {valid}", field="status") from error
        body = self._api.put(f"{self._step_path()}/status", {"status": value.value, "message": message})
        self._step = StepState.from_api(body)
        return self._step
