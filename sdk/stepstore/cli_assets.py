"""CLI: `stepstore assets ls|show|rm|get|put|share|unshare`."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from stepstore.assets import Asset, AssetType, asset_type
from stepstore.client import PAGE, ApiClient, segment
from stepstore.errors import InvalidInputError

# Transfers smaller than this finish too fast for a bar to help.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024


class ProgressBar:
    """A one-line progress bar on stderr for a transfer of `total` bytes; silent below a few MB.

    Call it with the bytes each finished chunk moved (it is safe to call from several threads).
    """

    def __init__(
        self, total: int, label: str, stream: IO[str] | None = None, min_bytes: int = PROGRESS_MIN_BYTES
    ) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.total >= min_bytes
        self.done = 0
        self._shown = -1
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, count: int) -> None:
        with self._lock:
            self.done = min(self.total, self.done + count)
            percent = int(self.done * 100 / self.total) if self.total else 100
            if self.enabled and percent != self._shown:
                self._shown = percent
                self._draw(percent)

    def _draw(self, percent: int) -> None:
        width = 30
        filled = width * percent // 100
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = self.done / elapsed / 1e6
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {percent:3d}% "
            f"{self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB {rate:.1f} MB/s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._shown >= 0:
            self.stream.write("\n")
            self.stream.flush()


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the `stepstore` parser."""
    group = commands.add_parser("assets", help="assets: list, show, delete, download, upload, share")
    actions = group.add_subparsers(dest="action", required=True)
    types = [t.value for t in AssetType]

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--user", help="act for this user (admin or service token)")

    def filters(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--label", help="only assets with this label")
        parser.add_argument("--type", choices=types, help="only assets of this type")
        parser.add_argument("--name", help="only assets whose current version has this name")

    ls = actions.add_parser("ls", help="assets you own or that are shared with you, newest first")
    filters(ls)
    ls.add_argument("--mine", action="store_true", help="only your own, not those shared with you")
    ls.add_argument(
        "--owner", help="only this user's (shared ones too when you hold an asset of the same label and type)"
    )
    ls.add_argument("--json", action="store_true")
    common(ls)
    ls.set_defaults(run=_ls)

    show = actions.add_parser("show", help="one asset: its metadata, links and versions")
    show.add_argument("asset_id")
    show.add_argument("--version", type=int, help="this version instead of the current one")
    show.add_argument("--json", action="store_true")
    common(show)
    show.set_defaults(run=_show)

    rm = actions.add_parser("rm", help="delete assets (every version), by id or by filters")
    rm.add_argument("asset_ids", nargs="*", metavar="ASSET_ID")
    filters(rm)
    rm.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    common(rm)
    rm.set_defaults(run=_rm)

    get = actions.add_parser("get", help="download an asset's stored bytes (Parquet, JSON, pickle or raw)")
    get.add_argument("asset_id")
    get.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout)")
    get.add_argument("--version", type=int)
    common(get)
    get.set_defaults(run=_get)

    put = actions.add_parser("put", help="save a file's bytes as an asset")
    put.add_argument("file")
    put.add_argument("--label", required=True)
    put.add_argument("--type", choices=types, default=AssetType.OTHER.value)
    put.add_argument("--name")
    put.add_argument("--description")
    put.add_argument("--overwrite", action="store_true", help="add a version if the label and type exist")
    common(put)
    put.set_defaults(run=_put)

    share = actions.add_parser("share", help="let another user read an asset of yours")
    share.add_argument("asset_id")
    share.add_argument("grantee", metavar="USER")
    common(share)
    share.set_defaults(run=_share)

    unshare = actions.add_parser("unshare", help="stop sharing an asset of yours with a user")
    unshare.add_argument("asset_id")
    unshare.add_argument("grantee", metavar="USER")
    common(unshare)
    unshare.set_defaults(run=_unshare)


def _api(args: argparse.Namespace) -> ApiClient:
    return ApiClient.from_environment(user=args.user)


def _listing(api: ApiClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    params = {
        "label": args.label,
        "type": args.type,
        "name": args.name,
        "owner": getattr(args, "owner", None),
    }
    return api.get_all("/assets", "assets", limit=PAGE, **{k: v for k, v in params.items() if v is not None})


def _row(asset: dict[str, Any]) -> str:
    return (
        f"{asset['asset_id']}  {asset['type']:<10} v{asset['version']:<3} {_size(asset['size']):>9}  "
        f"{asset['created_at'][:19]}  {asset['owner']:<16} {asset['label']}"
        + (f"  ({asset['name']})" if asset.get("name") else "")
    )


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return str(count)


def _public(asset: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in asset.items() if k != "url"}  # presigned URLs are credentials for a while


def _ls(args: argparse.Namespace) -> int:
    api = _api(args)
    assets = _listing(api, args)
    if args.mine:
        me = api.get("/me")["user"]
        assets = [a for a in assets if a["owner"] == me]
    if args.json:
        print(json.dumps([_public(a) for a in assets], indent=2))
        return 0
    for asset in assets:
        print(_row(asset))
    return 0


def _show(args: argparse.Namespace) -> int:
    api = _api(args)
    path = f"/assets/{segment(args.asset_id)}"
    asset = api.get(path + (f"/versions/{args.version}" if args.version else ""))
    versions = api.get_all(f"{path}/versions", "assets", limit=PAGE)
    if args.json:
        print(json.dumps({**_public(asset), "versions": [_public(v) for v in versions]}, indent=2))
        return 0
    print(f"asset {asset['asset_id']}: {asset['type']} {asset['label']!r}, version {asset['version']}")
    for key in ("name", "description", "owner", "created_at", "kind", "format"):
        if asset.get(key) is not None:
            print(f"  {key + ':':<13}{asset[key]}")
    print(f"  {'size:':<13}{_size(asset['size'])}")
    if asset["metadata"]:
        print(f"  {'metadata:':<13}{json.dumps(asset['metadata'])}")
    for label, linked in asset["links"].items():
        print(f"  link {label!r} -> {linked}")
    print(f"  versions ({len(versions)}):")
    for version in versions:
        named = f"  ({version['name']})" if version.get("name") else ""
        print(
            f"    v{version['version']:<4} {version['created_at'][:19]}  {_size(version['size']):>9}{named}"
        )
    return 0


def _rm(args: argparse.Namespace) -> int:
    api = _api(args)
    if args.asset_ids and (args.label or args.type or args.name):
        raise InvalidInputError("give asset ids or filters (--label, --type, --name), not both")
    if args.asset_ids:
        doomed = [api.get(f"/assets/{segment(a)}") for a in args.asset_ids]
    elif args.label or args.type or args.name:
        me = api.get("/me")["user"]
        doomed = [a for a in _listing(api, args) if a["owner"] == me]  # shared ones are not ours to delete
    else:
        raise InvalidInputError("name the assets to delete: asset ids, or --label/--type/--name filters")
    for asset in doomed:
        if args.dry_run:
            print(f"would delete {_row(asset)}")
            continue
        removed = api.delete(f"/assets/{segment(asset['asset_id'])}")
        print(
            f"deleted {asset['asset_id']} ({asset['type']} {asset['label']!r}, "
            f"{removed['versions']} versions)"
        )
    if not doomed:
        print("no matching assets of yours", file=sys.stderr)
    return 0


def _get(args: argparse.Namespace) -> int:
    from stepstore.store_assets import read_object

    api = _api(args)
    path = f"/assets/{segment(args.asset_id)}"
    asset = api.get(path + (f"/versions/{args.version}" if args.version else ""))
    bar = ProgressBar(asset["size"], f"downloading {asset['label']}")
    try:
        payload = read_object(asset, progress=bar)
    finally:
        bar.close()
    if args.output == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
    else:
        Path(args.output).write_bytes(payload)
        print(
            f"wrote {_size(len(payload))} ({asset['format']}, {asset['kind']}) to {args.output}",
            file=sys.stderr,
        )
    return 0


def _put(args: argparse.Namespace) -> int:
    from stepstore.store_assets import upload_asset

    path = Path(args.file)
    if not path.is_file():
        raise InvalidInputError(f"{args.file} is not a file")
    payload = path.read_bytes()
    asset = Asset(payload, args.label, asset_type(args.type), name=args.name, description=args.description)
    asset.metadata["file_name"] = path.name
    bar = ProgressBar(len(payload), f"uploading {path.name}")
    try:
        body = upload_asset(_api(args), asset, overwrite=args.overwrite, progress=bar)
    finally:
        bar.close()
    print(body["asset_id"])
    print(f"saved {path.name} as {body['type']} {body['label']!r} version {body['version']}", file=sys.stderr)
    return 0


def _share(args: argparse.Namespace) -> int:
    _api(args).put(f"/assets/{segment(args.asset_id)}/shares/{segment(args.grantee)}")
    print(f"shared {args.asset_id} with {args.grantee}")
    return 0


def _unshare(args: argparse.Namespace) -> int:
    _api(args).delete(f"/assets/{segment(args.asset_id)}/shares/{segment(args.grantee)}")
    print(f"stopped sharing {args.asset_id} with {args.grantee}")
    return 0
