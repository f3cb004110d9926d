"""The check families, in the order a scan runs them.

Each family is a module with ``NAME`` and ``async def run(ctx) -> list[Finding]``.
The order matters: checks that change data restore it or act on objects
they created, and the login rate-limit probe runs last because a target
that does limit logins may lock the scanner's address out for a while.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType

from stockade.scanner.checks import (
    authentication,
    bfla,
    bola,
    enumeration,
    exposure,
    injection,
    inventory,
    mass_assignment,
    misconfiguration,
    ratelimit,
    ssrf,
)
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    summary: str
    run: Callable[[ScanContext], Awaitable[list[Finding]]]


def _check(module: ModuleType) -> Check:
    return Check(module.NAME, module.SUMMARY, module.run)


CHECKS = tuple(_check(module) for module in (
    exposure, bola, bfla, authentication, mass_assignment, enumeration, injection, ssrf,
    misconfiguration, inventory, ratelimit,
))

CHECK_NAMES = tuple(check.name for check in CHECKS)
