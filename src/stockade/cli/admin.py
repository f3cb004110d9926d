"""``stockade admin``: run the admin API and manage the store from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml
from sqlalchemy.exc import SQLAlchemyError

from stockade.cli.store_options import (
    add_store_options,
    cli_actor,
    load_optional_config,
    open_store,
    store_url,
)
from stockade.store.config_sync import config_to_yaml_data, export_config, import_config
from stockade.store.database import StoreError
from stockade.store.errors import Conflict, NotFound
from stockade.store.operators import Role, create_operator


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("admin", help="Run the admin API or manage its store.")
    commands = parser.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    serve = commands.add_parser("serve", help="Run the admin REST API.")
    add_store_options(serve)
    serve.add_argument("--address", default="127.0.0.1:9902", help="host:port to listen on.")
    serve.add_argument("--tls-cert", help="PEM certificate chain; enables HTTPS.")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert.")
    serve.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"])
    serve.add_argument("--no-scan-runner", action="store_true",
                       help="Do not run the scans queued through the API in this process "
                            "(another admin server runs them).")
    serve.set_defaults(handler=_serve)

    operator = commands.add_parser(
        "create-operator", help="Create an operator and print its token once.")
    add_store_options(operator)
    operator.add_argument("--id", required=True, help="Operator id, e.g. alice.")
    operator.add_argument("--role", required=True, choices=[role.value for role in Role])
    operator.add_argument("--tenant", help="Tenant id; required for tenant roles.")
    operator.set_defaults(handler=_create_operator)

    importer = commands.add_parser(
        "import", help="Replace the store's config with a YAML file's.")
    importer.add_argument("file", help="YAML config to import.")
    importer.add_argument("--store", help="Database URL; default: the file's 'store' section.")
    importer.set_defaults(handler=_import, config=None)

    exporter = commands.add_parser("export", help="Print the store's config as YAML.")
    add_store_options(exporter)
    exporter.add_argument("-o", "--output", help="File to write instead of standard output.")
    exporter.set_defaults(handler=_export)

    purge = commands.add_parser(
        "purge", help="Delete old security events, expired blocks and expired route blocks "
                      "from the store.")
    add_store_options(purge)
    purge.add_argument("--events-older-than-days", type=float, required=True,
                       help="Delete security events older than this many days.")
    purge.set_defaults(handler=_purge)

    follower = commands.add_parser(
        "follow", help="Keep this node's config file in step with the store.")
    follower.add_argument("--store", required=True, help="Database URL of the store.")
    follower.add_argument("--base", required=True,
                          help="YAML file with this node's own settings (listeners, workers, "
                               "sinks); the store adds tenants, policy and alert rules.")
    follower.add_argument("--output", required=True,
                          help="Config file the gateway serves (stockade serve -c FILE).")
    follower.add_argument("--poll-seconds", type=float, default=2.0,
                          help="Seconds between version checks when no notification comes.")
    follower.add_argument("--log-level", default="info",
                          choices=["debug", "info", "warning", "error"])
    follower.set_defaults(handler=_follow)


def _serve(args: argparse.Namespace) -> int:
    from stockade.admin.server import serve_admin
    from stockade.logs import configure_logging

    configure_logging(args.log_level)
    config = load_optional_config(args)
    inventory = config.discovery.database if config and config.discovery else None
    try:
        serve_admin(store_url(args, config), args.address, tls_cert=args.tls_cert,
                    tls_key=args.tls_key, inventory_database=inventory,
                    log_level=args.log_level, run_scans=not args.no_scan_runner)
    except (StoreError, ValueError, SQLAlchemyError) as exc:
        print(f"admin API not started: {exc}", file=sys.stderr)
        return 1
    return 0


def _follow(args: argparse.Namespace) -> int:
    from pathlib import Path

    from stockade.logs import configure_logging
    from stockade.store.follow import follow

    configure_logging(args.log_level)
    if args.poll_seconds <= 0:
        print(f"--poll-seconds must be positive, not {args.poll_seconds}", file=sys.stderr)
        return 2
    try:
        follow(args.store, Path(args.base), Path(args.output), args.poll_seconds)
    except (StoreError, OSError, SQLAlchemyError) as exc:
        print(f"config follower stopped: {exc}", file=sys.stderr)
        return 1
    return 0


def _purge(args: argparse.Namespace) -> int:
    import time

    from stockade.store.blocks import purge_expired_blocks
    from stockade.store.events import purge_events
    from stockade.store.route_blocks import purge_expired_route_blocks

    if args.events_older_than_days < 0:
        print(f"--events-older-than-days must not be negative, not "
              f"{args.events_older_than_days}", file=sys.stderr)
        return 2
    config = load_optional_config(args)
    before = time.time() - args.events_older_than_days * 24 * 3600
    try:
        store = open_store(store_url(args, config))
        with store.session(None, cli_actor()) as scope:
            events = purge_events(scope, before)
            blocks = purge_expired_blocks(scope)
            route_blocks = purge_expired_route_blocks(scope)
    except StoreError as exc:
        print(f"purge failed: {exc}", file=sys.stderr)
        return 1
    print(f"deleted {events} security events, {blocks} expired blocks and {route_blocks} "
          "expired route blocks", file=sys.stderr)
    return 0


def _create_operator(args: argparse.Namespace) -> int:
    config = load_optional_config(args)
    try:
        store = open_store(store_url(args, config))
        with store.session(None, cli_actor()) as scope:
            operator, token = create_operator(scope, args.id, Role(args.role), args.tenant)
    except (StoreError, ValueError, Conflict, NotFound) as exc:
        print(f"operator not created: {exc}", file=sys.stderr)
        return 1
    print(f"created operator {operator.operator_id} with role {operator.role.value}",
          file=sys.stderr)
    print("its token follows; it is shown only now, so store it safely:", file=sys.stderr)
    print(token)
    return 0


def _import(args: argparse.Namespace) -> int:
    args.config = args.file
    config = load_optional_config(args)
    if config is None:
        return 2
    try:
        store = open_store(store_url(args, config))
        with store.session(None, cli_actor()) as scope:
            import_config(scope, config)
    except (StoreError, ValueError) as exc:
        print(f"{args.file}: not imported: {exc}", file=sys.stderr)
        return 1
    print(f"{args.file}: imported {len(config.tenants)} tenants", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    config = load_optional_config(args)
    try:
        store = open_store(store_url(args, config))
        with store.session(None, cli_actor()) as scope:
            exported = export_config(scope)
    except StoreError as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    text = yaml.safe_dump(config_to_yaml_data(exported), sort_keys=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
    else:
        sys.stdout.write(text)
    return 0
