"""The ``stockade`` command.

Each subcommand lives in its own module of this package with a
``register(subparsers)`` function that adds its parser and sets ``handler``
to a function taking the parsed arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

COMMAND_MODULES = (
    "stockade.cli.serve",
    "stockade.cli.config_cmd",
    "stockade.cli.credentials",
    "stockade.cli.discover",
    "stockade.cli.admin",
    "stockade.cli.report",
    "stockade.cli.scan",
    "stockade.cli.demo",
)
"""Modules that register subcommands, in the order ``--help`` lists them."""

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stockade",
        description="Multi-tenant API gateway, WAF and API protection in one reverse proxy.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
