"""CLI: `stepstore connections add|ls|show|rm|share|unshare|test` and `stepstore fixtures put|ls|get`.

Secrets never go on the command line (where shell history and `ps` would keep them): give them in a
JSON file or on stdin (`--json -`), or be prompted for them (`--secret password`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from stepstore.client import ApiClient
from stepstore.connections import (
    ConnectionInfo,
    ConnectionStore,
    ConnectionType,
    DatabaseError,
    is_secret_field,
)
from stepstore.errors import InvalidInputError


def _store(args: argparse.Namespace) -> ConnectionStore:
    return ConnectionStore(ApiClient.from_environment(user=getattr(args, "user", None)))


def _parse_value(text: str) -> Any:
    # Ports and flags as numbers and booleans; everything else stays a string.
    if text.isdigit():
        return int(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _credentials(args: argparse.Namespace) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    given = False
    if args.json:
        text = sys.stdin.read() if args.json == "-" else Path(args.json).read_text()
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise InvalidInputError("--json must hold a JSON object of credential fields", field="json")
        values.update(loaded)
        given = True
    for item in args.set or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--set takes KEY=VALUE, got {item!r}", field="set")
        values[key] = _parse_value(value)
        given = True
        if is_secret_field(key):
            print(
                f"stepstore: warning: --set {key}=... puts a secret on the command line, where `ps` and your "
                f"shell history show it; prefer --secret {key} (a prompt), --json FILE, or --json - (stdin)",
                file=sys.stderr,
            )
    for key in args.secret or ():
        values[key] = getpass.getpass(f"{key}: ")
        given = True
    return values if given else None


def _print_connection(info: ConnectionInfo) -> None:
    print(f"{info.owner}/{info.name} ({info.type.value}), id {info.connection_id}, version {info.version}")
    if info.description:
        print(f"  description: {info.description}")
    print(f"  credential fields: {', '.join(info.credential_fields) or '(none)'}")
    if info.shared_with is not None:
        print(f"  shared with: {', '.join(info.shared_with) or '(nobody)'}")
    print(f"  updated: {info.updated_at.isoformat()}")


def _add(args: argparse.Namespace) -> int:
    store = _store(args)
    credentials = _credentials(args)
    if args.update:
        info = store.update(args.name, type=args.type, credentials=credentials, description=args.description)
    else:
        if args.type is None:
            raise InvalidInputError("--type is needed to add a connection", field="type")
        info = store.create(args.name, args.type, credentials or {}, description=args.description or "")
    _print_connection(info)
    return 0


def _ls(args: argparse.Namespace) -> int:
    for info in _store(args).list():
        shared = (
            ",".join(info.shared_with) if info.shared_with else ("-" if info.shared_with is not None else "")
        )
        print(f"{info.owner}/{info.name}\t{info.type.value}\t{shared}\t{info.description}")
    return 0


def _show(args: argparse.Namespace) -> int:
    info = _store(args).get(args.name, owner=args.owner)
    if args.json:
        body = {**info.__dict__, "type": info.type.value}
        print(json.dumps(body, default=str, indent=2))
    else:
        _print_connection(info)
    return 0


def _rm(args: argparse.Namespace) -> int:
    _store(args).delete(args.name)
    print(f"deleted connection {args.name}")
    return 0


def _share(args: argparse.Namespace) -> int:
    info = _store(args).share(args.name, args.grantee)
    print(f"{info.owner}/{info.name} shared with: {', '.join(info.shared_with or ())}")
    return 0


def _unshare(args: argparse.Namespace) -> int:
    info = _store(args).unshare(args.name, args.grantee)
    print(f"{info.owner}/{info.name} shared with: {', '.join(info.shared_with or ()) or '(nobody)'}")
    return 0


def _test(args: argparse.Namespace) -> int:
    try:
        print(_store(args).test(args.name, owner=args.owner))
    except DatabaseError as error:
        print(f"stepstore: {error}", file=sys.stderr)
        return 1
    return 0


def _fixtures(args: argparse.Namespace) -> Any:
    from stepstore.fixtures import Fixtures

    return Fixtures(ApiClient.from_environment(user=getattr(args, "user", None)))


def _fixtures_put(args: argparse.Namespace) -> int:
    path = Path(args.file)
    info = _fixtures(args).put(args.key or path.name, path.read_bytes())
    print(f"{info.key}\t{info.size}")
    return 0


def _fixtures_ls(args: argparse.Namespace) -> int:
    for info in _fixtures(args).list(args.prefix):
        print(f"{info.key}\t{info.size}\t{info.last_modified.isoformat()}")
    return 0


def _fixtures_get(args: argparse.Namespace) -> int:
    data = _fixtures(args).get(args.key)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(data)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the `stepstore` parser."""
    types = [t.value for t in ConnectionType]
    group = commands.add_parser("connections", help="named credentials for databases and S3")
    actions = group.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="store a connection (or change one with --update)")
    add.add_argument("name")
    add.add_argument("--type", choices=types)
    add.add_argument("--description")
    add.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="a non-secret field (host, port, user, ...)"
    )
    add.add_argument("--secret", action="append", metavar="KEY", help="a secret field, prompted for")
    add.add_argument("--json", metavar="FILE", help="credential fields as a JSON object ('-' reads stdin)")
    add.add_argument(
        "--update", action="store_true", help="change an existing connection; credentials replace all"
    )
    add.set_defaults(run=_add)

    ls = actions.add_parser("ls", help="your connections and those shared with you")
    ls.set_defaults(run=_ls)

    show = actions.add_parser("show", help="one connection, without its credentials")
    show.add_argument("name")
    show.add_argument("--owner", help="another user's connection shared with you")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)

    rm = actions.add_parser("rm", help="delete your connection and its stored secret")
    rm.add_argument("name")
    rm.set_defaults(run=_rm)

    for verb, run, text in (("share", _share, "let a user use"), ("unshare", _unshare, "stop sharing")):
        sub = actions.add_parser(verb, help=f"{text} your connection")
        sub.add_argument("name")
        sub.add_argument("grantee", metavar="USER")
        sub.set_defaults(run=run)

    test = actions.add_parser(
        "test", help="connect and run a test query; prints success or the driver's error"
    )
    test.add_argument("name")
    test.add_argument("--owner", help="another user's connection shared with you")
    test.set_defaults(run=_test)

    for sub in (add, ls, show, rm, test, *(actions.choices[v] for v in ("share", "unshare"))):
        sub.add_argument("--user", help="act for this user (admin or service token)")

    fixtures = commands.add_parser("fixtures", help="the deployment's fixture files (fixture/...)")
    verbs = fixtures.add_subparsers(dest="action", required=True)
    put = verbs.add_parser("put", help="upload a file as a fixture (admin or service token)")
    put.add_argument("file")
    put.add_argument("key", nargs="?", help="key under fixture/ (default: the file's name)")
    put.set_defaults(run=_fixtures_put)
    fls = verbs.add_parser("ls", help="fixture keys under fixture/PREFIX")
    fls.add_argument("prefix", nargs="?")
    fls.set_defaults(run=_fixtures_ls)
    get = verbs.add_parser("get", help="download a fixture")
    get.add_argument("key")
    get.add_argument("-o", "--output", help="file to write (default: stdout)")
    get.set_defaults(run=_fixtures_get)
