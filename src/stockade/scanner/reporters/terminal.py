"""The terminal output: progress bars while the scan runs, then a summary table."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from stockade.scanner.reporters.json_report import severity_counts
from stockade.scanner.runner import ScanResult

SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
                   "info": "dim"}


class TerminalProgress:
    """A ScanProgress that draws one bar over the checks and counts requests."""

    def __init__(self, console: Console, total_checks: int) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TextColumn("{task.fields[requests]} requests"),
            TimeElapsedColumn(), console=console, transient=False)
        self._task: TaskID = self._progress.add_task("starting", total=total_checks,
                                                     requests=0)
        self._requests = 0

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._progress.stop()

    def check_started(self, name: str, summary: str) -> None:
        self._progress.update(self._task, description=f"{name}: {summary}")

    def check_finished(self, name: str, findings: int) -> None:
        self._progress.advance(self._task)
        style = "bold red" if findings else "green"
        self._progress.console.print(f"[{style}]{name}: {findings} finding(s)[/]")

    def request_sent(self) -> None:
        self._requests += 1
        self._progress.update(self._task, requests=self._requests)


def print_summary(console: Console, result: ScanResult) -> None:
    table = Table(title=f"Findings for {result.target}")
    table.add_column("severity")
    table.add_column("category")
    table.add_column("where")
    table.add_column("finding")
    for finding in result.findings:
        level = finding.severity.name.lower()
        table.add_row(f"[{SEVERITY_STYLES[level]}]{level}[/]", finding.category,
                      f"{finding.method} {finding.path}", finding.title)
    if result.findings:
        console.print(table)
    counts = ", ".join(f"{count} {name}" for name, count in severity_counts(result).items()
                       if count)
    console.print(f"{len(result.findings)} finding(s){': ' + counts if counts else ''}; "
                  f"{result.requests} requests in {result.finished - result.started:.1f} s")
    for note in result.notes:
        console.print(f"[dim]note: {note}[/]")
    for error in result.errors:
        console.print(f"[red]error: {error}[/]")
