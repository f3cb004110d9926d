"""``stockade report``: a tenant's security report for a period, as JSON or HTML."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

from stockade.admin.report import build_report, render_html
from stockade.cli.store_options import (
    add_store_options,
    cli_actor,
    load_optional_config,
    open_store,
    store_url,
)
from stockade.store.database import StoreError
from stockade.store.errors import NotFound

DEFAULT_DAYS = 7


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="Write a tenant's security report.")
    add_store_options(parser)
    parser.add_argument("--tenant", required=True, help="Tenant id.")
    parser.add_argument("--since", type=_timestamp,
                        help=f"Start, ISO 8601 such as 2026-12-01 or 2026-12-01T08:00Z; "
                             f"default {DEFAULT_DAYS} days before --until.")
    parser.add_argument("--until", type=_timestamp, help="End, ISO 8601; default now.")
    parser.add_argument("--format", choices=["json", "html"], default="json")
    parser.add_argument("-o", "--output", help="File to write instead of standard output.")
    parser.set_defaults(handler=run)


def _timestamp(text: str) -> float:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}; use ISO 8601 such as 2026-12-01 or 2026-12-01T08:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def run(args: argparse.Namespace) -> int:
    config = load_optional_config(args)
    until = args.until if args.until is not None else time.time()
    since = args.since if args.since is not None else until - DEFAULT_DAYS * 24 * 3600
    inventory = config.discovery.database if config and config.discovery else None
    try:
        store = open_store(store_url(args, config))
        with store.session(None, cli_actor()) as scope:
            report = build_report(scope, args.tenant, since, until, inventory)
    except (StoreError, ValueError, NotFound) as exc:
        print(f"report not written: {exc}", file=sys.stderr)
        return 1
    text = render_html(report) if args.format == "html" else json.dumps(report, indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
    else:
        sys.stdout.write(text)
    return 0
