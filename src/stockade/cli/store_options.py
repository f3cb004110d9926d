"""Options shared by the commands that work on the store: which database to open."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import SQLAlchemyError

from stockade.config.loader import ConfigError, load_config
from stockade.config.models import GatewayConfig
from stockade.store.database import DEFAULT_URL, StoreError, migrate, open_engine
from stockade.store.scope import Store


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", help="YAML config whose 'store' section names the "
                                               "database.")
    parser.add_argument("--store", help=f"Database URL, overriding the config; default "
                                         f"{DEFAULT_URL}.")


def load_optional_config(args: argparse.Namespace) -> GatewayConfig | None:
    """Load ``--config`` if given; print its issues and raise SystemExit(1) when invalid."""
    if not args.config:
        return None
    try:
        return load_config(args.config)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{args.config}: the config is invalid", file=sys.stderr)
        raise SystemExit(1) from None


def store_url(args: argparse.Namespace, config: GatewayConfig | None) -> str:
    if args.store:
        return str(args.store)
    if config is not None:
        return config.store.url
    return DEFAULT_URL


def open_store(url: str) -> Store:
    """Open and migrate the store; raise StoreError naming the database when that fails."""
    engine = open_engine(url)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the store at {engine.url.render_as_string()}: "
                         f"{exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}; "
                         "check --store or the config's store.url") from exc
    return Store(engine)


def cli_actor() -> str:
    """Return the operator name that config history records for command-line changes."""
    return f"cli:{getpass.getuser()}"[:63]
