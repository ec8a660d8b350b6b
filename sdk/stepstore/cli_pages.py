"""CLI: `stepstore pages show`, `stepstore elements set|get`, `stepstore upload`, `stepstore action`.

What a step's user does from a terminal: read the page, set inputs, upload files, run the action.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stepstore.client import ApiClient, segment
from stepstore.pages import Element, Page


def _api(args: argparse.Namespace) -> ApiClient:
    return ApiClient.from_environment(user=args.user)


def _step_path(args: argparse.Namespace) -> str:
    from stepstore.store_pages import page_path

    return page_path(args.flow_id, args.step_name)


def _summary(element: Element) -> str:
    data = element.to_dict()
    value = data.get("value")
    shown = "" if not element.is_input else f" = {json.dumps(value)[:200]}"
    ref = f" [{element.reference_id}]" if element.reference_id else ""
    if data["type"] == "table":
        shown = f" ({data['params'].get('rows')} rows x {data['params'].get('columns')} columns)"
    return f"{data['type']:<16} {element.title!r}{ref} id={element.id}{shown}"


def print_page(page: Page) -> None:
    print(f"page {page.title!r} (version {page.version})")
    for section in page.sections:
        print(f"  section {section.title!r}")
        for card in section.cards:
            print(f"    card {card.title!r}")
            for element in card.content:
                print(f"      {_summary(element)}")


def _pages_show(args: argparse.Namespace) -> int:
    from stepstore.store_pages import read_page

    page = read_page(_api(args), _step_path(args))
    if args.json:
        print(json.dumps({**page.to_dict(), "version": page.version}, indent=2))
    else:
        print_page(page)
    return 0


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # plain text for a TextInput or a string option


def _elements_set(args: argparse.Namespace) -> int:
    body = _api(args).put(
        f"{_step_path(args)}/elements/{segment(args.element)}/value", {"value": _parse_value(args.value)}
    )
    print(json.dumps(body["element"].get("value")))
    return 0


def _elements_get(args: argparse.Namespace) -> int:
    body = _api(args).get(f"{_step_path(args)}/elements/{segment(args.element)}")
    print(json.dumps({k: body[k] for k in ("element", "upload", "action")}, indent=2, default=str))
    return 0


def _upload(args: argparse.Namespace) -> int:
    from stepstore.store_pages import upload_file

    path = Path(args.file)
    body = upload_file(_api(args), _step_path(args), args.element, args.name or path.name, path.read_bytes())
    upload = body.get("upload") or {}
    print(f"uploaded {upload.get('file_name')} ({upload.get('size')} bytes, {upload.get('format')})")
    return 0


def _action(args: argparse.Namespace) -> int:
    from stepstore.store_pages import convert_data_sources

    api = _api(args)
    path = _step_path(args)
    action = api.post(f"{path}/action")
    converted = convert_data_sources(api, args.flow_id, args.step_name, action, args.user)
    print(f"action of step {args.step_name!r} ran at {action['ran_at']}")
    for name, frame in converted.items():
        print(f"  {name}: {len(frame)} rows x {len(frame.columns)} columns on the next step's in-link")
    return 0


def _step_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow_id")
    parser.add_argument("step_name")
    parser.add_argument("--user", help="act for this user (admin or service token)")


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the `stepstore` parser."""
    pages = commands.add_parser("pages", help="a step's page").add_subparsers(dest="action", required=True)
    show = pages.add_parser("show", help="a step's page: sections, cards, elements and their values")
    _step_arguments(show)
    show.add_argument("--json", action="store_true", help="the whole page as JSON")
    show.set_defaults(run=_pages_show)

    elements = commands.add_parser("elements", help="a page's input elements").add_subparsers(
        dest="action", required=True
    )
    set_value = elements.add_parser("set", help="set an input element's value (JSON, or plain text)")
    _step_arguments(set_value)
    set_value.add_argument("element", help="the element's id, reference_id or title")
    set_value.add_argument("value", help="e.g. '\"b\"', '[\"a\", \"c\"]', '[2, 8]' or some text")
    set_value.set_defaults(run=_elements_set)
    get_value = elements.add_parser(
        "get", help="an element with its value, upload and the step's last action"
    )
    _step_arguments(get_value)
    get_value.add_argument("element")
    get_value.set_defaults(run=_elements_get)

    upload = commands.add_parser("upload", help="upload a file to a DataSource element")
    _step_arguments(upload)
    upload.add_argument("element", help="the DataSource's id, reference_id or title")
    upload.add_argument("file")
    upload.add_argument("--name", help="the file name to record (default: the file's own)")
    upload.set_defaults(run=_upload)

    action = commands.add_parser("action", help="run a step's action: check and parse its DataSource files")
    _step_arguments(action)
    action.set_defaults(run=_action)
