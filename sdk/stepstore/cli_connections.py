"""CLI: `stepstore connections|fixtures ...`."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the `stepstore` parser."""
