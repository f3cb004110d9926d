"""``stockade demo traffic``: replay legitimate use and attacks against the demo."""

from __future__ import annotations

import argparse
import time
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="Commands for the demo started by scripts/demo.")
    commands = parser.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    traffic = commands.add_parser(
        "traffic", help="Send legitimate calls and attacks for each demo tenant; print the results."
    )
    traffic.add_argument(
        "--gateway",
        default="http://127.0.0.1:8080",
        help="Gateway URL on this machine (default: %(default)s).",
    )
    traffic.add_argument(
        "--events",
        default="examples/demo/var/events.jsonl",
        help="JSON lines file of the demo's security events (default: %(default)s).",
    )
    traffic.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Legitimate sessions per user and tenant (default: %(default)s).",
    )
    traffic.set_defaults(handler=run_traffic)


def run_traffic(args: argparse.Namespace) -> int:
    from stockade.demo.traffic import DEMO_TENANTS, run_tenant, summarize_events, wait_for_events

    console = Console()
    host = urlsplit(args.gateway).hostname or ""
    if not host.startswith("127.") and host not in ("localhost", "::1"):
        console.print(
            f"[red]--gateway must be on this machine (127.0.0.0/8 or localhost), not {host!r}"
        )
        return 2
    started = time.time()
    runs = []
    for tenant in DEMO_TENANTS:
        console.print(
            f"Replaying traffic for tenant [bold]{tenant.id}[/] (Host: {tenant.host}) ..."
        )
        try:
            runs.append(run_tenant(args.gateway, tenant, args.rounds))
        except OSError as exc:
            console.print(
                f"[red]cannot reach the gateway at {args.gateway}: {exc}. Is scripts/demo running?"
            )
            return 1
    events = wait_for_events(args.events, started - 1, seconds=15)
    console.print(_attack_table(runs))
    console.print(_tenant_table(runs, summarize_events(events)))
    if not events:
        console.print(
            f"No security events found in {args.events}; "
            "pass --events if the demo writes them elsewhere."
        )
    return 0


def _attack_table(runs: list[Any]) -> Table:
    table = Table(title="Attacks: what each tenant's gateway did")
    table.add_column("attack")
    for run in runs:
        table.add_column(f"{run.tenant}")
    for index, outcome in enumerate(runs[0].attacks):
        cells = []
        for run in runs:
            item = run.attacks[index]
            verdict = "[green]stopped[/]" if item.stopped else "[yellow]reached the API[/]"
            cells.append(f"{verdict} ({item.status})")
        table.add_row(outcome.attack, *cells)
    return table


def _tenant_table(runs: list[Any], summary: dict[str, dict[str, int]]) -> Table:
    table = Table(title="Per tenant")
    # Two-line headers keep the table within 80 columns without cutting a word.
    for column in (
        "tenant",
        "legitimate\ncalls ok",
        "events\nblocked",
        "events\ndetected",
        "observations",
        "discovery\nevents",
    ):
        table.add_column(column)
    for run in runs:
        counts = summary.get(run.tenant, {})
        table.add_row(
            run.tenant,
            f"{run.legitimate_ok}/{run.legitimate_total}",
            str(counts.get("blocked", 0)),
            str(counts.get("detected", 0)),
            str(counts.get("observed", 0)),
            str(counts.get("discovered", 0)),
        )
    return table
