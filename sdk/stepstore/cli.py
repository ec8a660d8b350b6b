"""The `stepstore` command."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence

from stepstore import cli_assets, cli_cloud, cli_connections, cli_pages
from stepstore.client import PAGE, ApiClient, segment
from stepstore.errors import InvalidInputError, StepStoreError
from stepstore.status import read_flow


def _local_up(args: argparse.Namespace) -> int:
    from stepstore.local import LocalStack

    stack = LocalStack(host=args.host, port=args.port, quiet=not args.verbose)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    with contextlib.ExitStack() as running:
        running.enter_context(stack)
        if args.events:
            from stepstore.local.events import LocalEvents

            # The example triggers run their flows as a service user of their own.
            token = stack.create_user("event-triggers", role="service")
            events = LocalEvents(stack, trigger_token=token).start()
            # On the way out the stack's moto goes too: nothing to unsubscribe, little to wait for.
            running.callback(events.stop, grace_seconds=0.5, unsubscribe=False)
        print(f"STEPSTORE_API_URL={stack.api_url}", flush=True)
        print(f"STEPSTORE_ADMIN_TOKEN={stack.admin_token}", flush=True)
        # Scripts read the moto line as stderr's first line: it stays first.
        print(
            f"# AWS (moto) at {stack.aws_endpoint_url}; Ctrl-C stops, and the data goes with it",
            file=sys.stderr,
            flush=True,
        )
        print(
            f"# web console: {stack.console_url} (sign in with a user's token)", file=sys.stderr, flush=True
        )
        stopped.wait()
    # Stopped cleanly: the stack and its data are gone. Skip the interpreter's teardown (collecting
    # moto's, botocore's and pandas' module state takes seconds on a busy machine, and a trigger's flow
    # may still run on a daemon thread), so Ctrl-C or SIGTERM ends the process at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _users_create(args: argparse.Namespace) -> int:
    body = {"name": args.name, "role": args.role, "expires_in_days": args.expires_in_days}
    created = ApiClient.from_environment().post("/users", {k: v for k, v in body.items() if v is not None})
    print(created["token"])
    if created.get("expires_at"):
        print(f"stepstore: the token expires at {created['expires_at']}", file=sys.stderr)
    return 0


def _users_ls(args: argparse.Namespace) -> int:
    for user in ApiClient.from_environment().get_all("/users", "users", limit=PAGE):
        print(f"{user['name']}\t{user['role']}\t{user['created_at']}")
    return 0


def _users_tokens(args: argparse.Namespace) -> int:
    path = f"/users/{segment(args.name)}/tokens"
    for token in ApiClient.from_environment().get_all(path, "tokens", limit=PAGE):
        print(f"{token['token_id']}\tcreated {token['created_at']}\texpires {token['expires_at'] or 'never'}")
    return 0


def _users_token(args: argparse.Namespace) -> int:
    body = {"expires_in_days": args.expires_in_days} if args.expires_in_days is not None else {}
    created = ApiClient.from_environment().post(f"/users/{segment(args.name)}/tokens", body)
    print(created["token"])
    expiry = f"expires at {created['expires_at']}" if created.get("expires_at") else "never expires"
    print(f"stepstore: token {created['token_id']} for {created['user']}; it {expiry}", file=sys.stderr)
    return 0


def _users_revoke(args: argparse.Namespace) -> int:
    api = ApiClient.from_environment()
    path = f"/users/{segment(args.name)}/tokens"
    if args.all == bool(args.token_ids):
        raise InvalidInputError("name the token ids to revoke, or pass --all (not both)", field="token_id")
    doomed = [t["token_id"] for t in api.get_all(path, "tokens", limit=PAGE)] if args.all else args.token_ids
    for token_id in doomed:
        api.delete(f"{path}/{segment(token_id)}")
        print(f"revoked {token_id}")
    print(REVOCATION_NOTE, file=sys.stderr)
    return 0


def _users_rm(args: argparse.Namespace) -> int:
    removed = ApiClient.from_environment().delete(f"/users/{segment(args.name)}")
    print(f"removed {removed['name']}; {removed['tokens_revoked']} token(s) revoked")
    print(REVOCATION_NOTE, file=sys.stderr)
    return 0


REVOCATION_NOTE = (
    "stepstore: a revoked token stops working at once on the local stack, and on AWS within the "
    "authorizer cache TTL (300 s)"
)


def _flows_ls(args: argparse.Namespace) -> int:
    params: dict[str, object] = {"limit": args.limit}
    if args.cursor:
        params["cursor"] = args.cursor
    if args.status:
        params["with_status"] = "true"
    page = ApiClient.from_environment(user=args.user).get("/flows", **params)
    for flow in page["flows"]:
        if args.status:
            print(
                f"{flow['flow_id']}\t{flow['created_at']}\t{flow['status']}\t{flow['current_step'] or '-'}"
                f"\t{flow['progress']:.0f}%\t{flow['message'] or ''}"
            )
        else:
            print(f"{flow['flow_id']}\t{flow['created_at']}")
    if page.get("next_cursor"):
        print(f"# more: --cursor {page['next_cursor']}", file=sys.stderr)
    return 0


def _flows_status(args: argparse.Namespace) -> int:
    body = read_flow(ApiClient.from_environment(user=args.user), f"/flows/{segment(args.flow_id)}")
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    print(f"flow {body['flow_id']} (owner {body['owner']}), current step: {body['current_step']}")
    for step in body["steps"]:
        print(
            f"  {step['position']:>3} {step['name']:<24} {step['status']:<10} "
            f"{step['progress']:>5.0f}%  {step['message']}"
        )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from stepstore.demo import run_demo, serve_demo

    if args.serve:
        serve_demo(args.host, args.port)
        return 0
    run = run_demo()
    return 0 if run.status.status.value == "completed" else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepstore", description="StepStore: the store for data and ML flows."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="the local stack").add_subparsers(dest="action", required=True)
    up = local.add_parser("up", help="run the local stack in the foreground")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8765)
    up.add_argument("--verbose", action="store_true", help="show the functions' logs and metrics")
    up.add_argument(
        "--no-events",
        dest="events",
        action="store_false",
        help="do not deliver events (DynamoDB streams, S3 notifications) to the event handlers and triggers",
    )
    up.set_defaults(run=_local_up)

    users = commands.add_parser("users", help="users and tokens").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create a user and print its token (admin token needed)")
    create.add_argument("name")
    create.add_argument("--role", choices=["user", "service", "admin"], default="user")
    create.add_argument("--expires-in-days", type=float, help="the token stops working after this many days")
    create.set_defaults(run=_users_create)
    users.add_parser("ls", help="every user, by name (admin token needed)").set_defaults(run=_users_ls)
    tokens = users.add_parser("tokens", help="a user's tokens: id, created, expires (admin, or the user)")
    tokens.add_argument("name")
    tokens.set_defaults(run=_users_tokens)
    token = users.add_parser("token", help="issue the user another token and print it (admin, or the user)")
    token.add_argument("name")
    token.add_argument("--expires-in-days", type=float, help="the token stops working after this many days")
    token.set_defaults(run=_users_token)
    revoke = users.add_parser("revoke", help="revoke tokens of a user by id, or --all (admin, or the user)")
    revoke.add_argument("name")
    revoke.add_argument("token_ids", nargs="*", metavar="TOKEN_ID")
    revoke.add_argument("--all", action="store_true", help="every token of the user")
    revoke.set_defaults(run=_users_revoke)
    rm = users.add_parser("rm", help="remove a user and revoke its tokens; the name is not reused (admin)")
    rm.add_argument("name")
    rm.set_defaults(run=_users_rm)

    flows = commands.add_parser("flows", help="flows and their status").add_subparsers(
        dest="action", required=True
    )
    ls = flows.add_parser("ls", help="your flows, newest first")
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--cursor", help="the page after the one that printed this cursor")
    ls.add_argument("--status", action="store_true", help="each flow's status, current step and progress")
    ls.add_argument("--user", help="act for this user (admin or service token)")
    ls.set_defaults(run=_flows_ls)
    status = flows.add_parser("status", help="a flow's steps, status and progress")
    status.add_argument("flow_id")
    status.add_argument("--user", help="act for this user (admin or service token)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_flows_status)

    for group in (cli_assets, cli_pages, cli_connections, cli_cloud):
        group.register(commands)

    demo = commands.add_parser("demo", help="run the example flow on a local stack started in this process")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then keep the stack up with a flow that waits for you in the web console (Ctrl-C stops)",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8765)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except StepStoreError as error:
        print(f"stepstore: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
