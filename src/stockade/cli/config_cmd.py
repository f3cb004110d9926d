"""``stockade config validate`` and ``stockade config schema``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from stockade.config.loader import ConfigError, load_config
from stockade.config.models import GatewayConfig


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config", help="Validate a config file or print its JSON Schema."
    )
    commands = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    validate = commands.add_parser(
        "validate", help="Check a config file and print every error found."
    )
    validate.add_argument("file", help="Path to the YAML config file.")
    validate.set_defaults(handler=run_validate)

    schema = commands.add_parser(
        "schema", help="Print the JSON Schema of the config file for editors."
    )
    schema.set_defaults(handler=run_schema)

    reference = commands.add_parser(
        "reference", help="Print the configuration reference as Markdown (docs/configuration.md)."
    )
    reference.set_defaults(handler=run_reference)


def run_validate(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        count = len(exc.issues)
        print(
            f"{args.file}: {count} error{'s' if count != 1 else ''}; the config was not loaded",
            file=sys.stderr,
        )
        return 1
    from stockade.gateway.runtime import check_files, check_layers

    problems = check_files(config)
    for problem in problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if problems:
        print(f"{args.file}: {len(problems)} unusable files", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    problems = check_layers(config)
    for problem in problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if problems:
        return 1
    services = sum(len(tenant.services) for tenant in config.tenants)
    tenants = len(config.tenants)
    print(f"{args.file}: valid ({tenants} tenant{'s' if tenants != 1 else ''}, "
          f"{services} service{'s' if services != 1 else ''})")
    return 0


def run_schema(args: argparse.Namespace) -> int:
    schema = GatewayConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Stockade gateway configuration"
    json.dump(schema, sys.stdout, indent=2)
    print()
    return 0


def run_reference(args: argparse.Namespace) -> int:
    from stockade.config.reference import render_reference

    sys.stdout.write(render_reference())
    return 0
