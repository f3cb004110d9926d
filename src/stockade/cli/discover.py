"""``stockade discover FILE... -o openapi.yaml``: build an API inventory from recorded traffic.

Reads HAR files and access logs (Stockade's JSON lines, nginx JSON and
combined), learns the endpoints of one service, writes them as an OpenAPI
3.1 document and, given the declared document, lists the differences.
Invalid parts of a file are reported with their position; the rest is used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.compare import Finding, RetiredOperation, diff_inventory
from stockade.protection.discovery.config import DAY_SECONDS
from stockade.protection.discovery.declared import DeclaredApi, DeclaredApiError, load_declared
from stockade.protection.discovery.export import export_openapi
from stockade.protection.discovery.importers import (
    ImportDefaults,
    ImportReport,
    read_file,
)
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.storage import InventoryStore, StoreError

FORMATS = ("auto", "har", "jsonl", "combined")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "discover",
        help="Build an OpenAPI inventory from HAR files and access logs.",
        description="Learn the endpoints of a service from HAR files and access logs "
        "(Stockade JSON, nginx JSON or combined), write them as an OpenAPI 3.1 "
        "document, and compare them with the declared document. Exits with 1 when a "
        "file had invalid parts (the valid parts are still used).",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="HAR or access log files; without any, export the inventory stored in --database.",
    )
    parser.add_argument(
        "-o", "--output", help="OpenAPI file to write (.yaml or .json); '-' is stdout."
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="Format of every FILE; 'auto' decides per file (default).",
    )
    parser.add_argument(
        "--tenant",
        default="default",
        help="Tenant of records that name none (HAR, nginx); default 'default'.",
    )
    parser.add_argument(
        "--service",
        help="Service to export. Records that name no service (HAR, nginx) get "
        "this id; without it their host name is the service.",
    )
    parser.add_argument(
        "--declared", metavar="OPENAPI", help="Declared OpenAPI 3.0/3.1 document to compare with."
    )
    parser.add_argument(
        "--previous",
        metavar="OPENAPI",
        help="An earlier version of the declared document: its operations that the declared "
        "one dropped are zombies when called.",
    )
    parser.add_argument(
        "--diff",
        metavar="FILE",
        help="Write the comparison as JSON to FILE instead of printing a table.",
    )
    parser.add_argument(
        "--orphan-after",
        type=float,
        default=7 * DAY_SECONDS,
        metavar="SECONDS",
        help="A declared endpoint unseen this long is an orphan (default 7 days).",
    )
    parser.add_argument(
        "--database",
        metavar="PATH",
        help="Merge the result into this inventory database and export the merged "
        "inventory (the gateway's discovery.database).",
    )
    parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")
    parser.set_defaults(handler=run_discover)


def _observations(
    paths: list[Path], args: argparse.Namespace, report: ImportReport, console: Console
) -> Iterator[Observation]:
    total = sum(path.stat().st_size for path in paths)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    disabled = args.no_progress or not console.is_terminal
    defaults = ImportDefaults(args.tenant, args.service)
    file_format = None if args.format == "auto" else args.format
    with Progress(*columns, console=console, transient=True, disable=disabled) as progress:
        task = progress.add_task("importing", total=total)
        done = 0
        for path in paths:
            progress.update(task, description=path.name)

            def advance(read: int, base: int = done) -> None:
                progress.update(task, completed=base + read)

            yield from read_file(path, report, defaults, advance, file_format)
            done += path.stat().st_size
            progress.update(task, completed=done)


def _error(message: str) -> None:
    """Print one unwrapped line to standard error, so tools can parse it."""
    print(message, file=sys.stderr)


def _pick(
    inventories: dict[tuple[str, str], ServiceInventory], args: argparse.Namespace
) -> ServiceInventory | str:
    """Return the inventory to export, or an error message."""
    candidates = list(inventories.values())
    if args.service is not None:
        candidates = [item for item in candidates if item.service == args.service]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return "no request in the files belongs to service " + repr(args.service)
    names = ", ".join(sorted(f"{item.tenant}/{item.service}" for item in candidates))
    return f"the files hold several services ({names}); choose one with --service"


def _write_document(document: dict[str, Any], output: str) -> None:
    if output.endswith(".json"):
        text = json.dumps(document, indent=2) + "\n"
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")


def _print_findings(findings: list[Finding], console: Console) -> None:
    if not findings:
        console.print("No differences from the declared document.")
        return
    table = Table("kind", "method", "path", "detail")
    for finding in findings:
        table.add_row(finding.kind, finding.method, finding.template, finding.detail)
    console.print(table)


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "method": finding.method,
        "path": finding.template,
        "detail": finding.detail,
        "message": finding.message,
        "severity": finding.severity.name.lower(),
        "evidence": finding.evidence,
    }


def _import(
    paths: list[Path], args: argparse.Namespace, report: ImportReport
) -> dict[tuple[str, str], ServiceInventory]:
    """Learn every readable record of ``paths``; raise OSError when a file cannot be read."""
    inventories: dict[tuple[str, str], ServiceInventory] = {}
    for observation in _observations(paths, args, report, Console(stderr=True)):
        key = (observation.tenant, observation.service)
        inventory = inventories.setdefault(key, ServiceInventory(*key))
        request_path, unit = analyze(observation)
        inventory.learn(request_path, unit)
    return inventories


def _compare(
    declared: DeclaredApi,
    previous: DeclaredApi | None,
    inventory: ServiceInventory,
    args: argparse.Namespace,
) -> None:
    # Recorded traffic ends before today: judge orphans at the time of the last record.
    last_seen = max((item.last_seen for item in inventory.endpoints.values()), default=time.time())
    retired = []
    if previous is not None:
        label = previous.version or "previous"
        retired = [
            RetiredOperation(method, path, label)
            for method, path in sorted(previous.keys() - declared.keys())
        ]
    findings = diff_inventory(
        declared, inventory, now=last_seen, orphan_after=args.orphan_after, retired=retired
    )
    if args.diff is not None:
        Path(args.diff).write_text(json.dumps([_finding_json(item) for item in findings], indent=2))
    else:
        _print_findings(findings, Console(file=sys.stdout if args.output != "-" else sys.stderr))


def _usage_error(args: argparse.Namespace) -> str | None:
    if not args.files and (args.database is None or args.service is None):
        return "give FILE... to import, or --database with --service to export a stored inventory"
    if args.output is None and args.declared is None:
        return "nothing to do; give -o FILE, --declared OPENAPI, or both"
    if args.previous is not None and args.declared is None:
        return "--previous needs --declared, the current document"
    return None


def _stored(args: argparse.Namespace) -> ServiceInventory | str:
    """Return the stored inventory of --tenant/--service, or an error message."""
    store = InventoryStore(args.database)
    try:
        inventory = store.load(args.tenant, args.service)
    finally:
        store.close()
    if inventory is None:
        return f"{args.database} has no inventory of {args.tenant}/{args.service}"
    return inventory


def _collect(args: argparse.Namespace, report: ImportReport) -> ServiceInventory | str:
    """Import the files (merged into --database when given) or load the stored inventory."""
    if not args.files:
        return _stored(args)
    inventories = _import([Path(name) for name in args.files], args, report)
    for issue in report.issues:
        _error(str(issue))
    chosen = _pick(inventories, args) if inventories else "no valid request found in the files"
    if isinstance(chosen, str) or args.database is None:
        return chosen
    store = InventoryStore(args.database)
    try:
        return store.merge(chosen, time.time())
    finally:
        store.close()


def run_discover(args: argparse.Namespace) -> int:
    problem = _usage_error(args)
    if problem is not None:
        _error(f"stockade discover: {problem}")
        return 2
    for name in args.files:
        if not Path(name).is_file():
            _error(f"stockade discover: {name}: file not found")
            return 1
    report = ImportReport()
    try:
        declared = load_declared(args.declared) if args.declared is not None else None
        previous = load_declared(args.previous) if args.previous is not None else None
        chosen = _collect(args, report)
    except (DeclaredApiError, StoreError) as error:
        _error(f"stockade discover: {error}")
        return 1
    except OSError as error:
        _error(f"stockade discover: cannot read {error.filename}: {error.strerror}")
        return 1
    if isinstance(chosen, str):
        _error(f"stockade discover: {chosen}")
        return 1

    if args.files:
        _error(f"{report.records} requests read, {report.skipped} skipped (blocked or 404)")
    _error(f"{len(chosen.endpoints)} endpoints in {chosen.tenant}/{chosen.service}")
    try:
        if args.output is not None:
            _write_document(export_openapi(chosen), args.output)
        if declared is not None:
            _compare(declared, previous, chosen, args)
    except OSError as error:
        _error(f"stockade discover: cannot write {error.filename}: {error.strerror}")
        return 1
    return 1 if report.issues else 0
