"""``stockade serve``: run the gateway."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stockade.config.loader import ConfigError, load_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="Run the gateway with a config file.")
    parser.add_argument("-c", "--config", required=True, help="Path to the YAML config file.")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Worker processes, overriding the config's 'workers'.",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="Operational log level.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stockade.gateway.supervisor import Supervisor

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{args.config}: not started because the config is invalid", file=sys.stderr)
        return 1
    from stockade.gateway.runtime import check_files

    problems = check_files(config)
    if problems:
        for problem in problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        print(f"{args.config}: not started because files it names are unusable", file=sys.stderr)
        return 1
    supervisor = Supervisor(args.config, config, workers=args.workers, log_level=args.log_level)
    return supervisor.run()
