"""``stockade scan``: test an API against the OWASP API Security Top 10.

Exit status: 0 when the scan ran and no finding reached ``--fail-on``,
1 when one did, 2 when the input was invalid or the scan could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from stockade.cli.store_options import (
    add_store_options,
    load_optional_config,
    open_store,
    store_url,
)
from stockade.scanner.auth import AuthError, AuthProfile, load_profiles, login_profile
from stockade.scanner.blocks import DEFAULT_BLOCK_SECONDS, findings_to_blocks, store_blocks
from stockade.scanner.checks import CHECK_NAMES
from stockade.scanner.client import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_SECONDS, TargetError
from stockade.scanner.events import ACTOR, store_findings
from stockade.scanner.findings import at_or_above, parse_severity
from stockade.scanner.openapi import OpenApiError
from stockade.scanner.planning import (
    DEFAULT_EXPENSIVE_PROBES,
    DEFAULT_LOGIN_PROBES,
    DEFAULT_TIME_DELAY_SECONDS,
    ScanSettings,
)
from stockade.scanner.reporters.html_report import render_html
from stockade.scanner.reporters.json_report import render_json
from stockade.scanner.reporters.sarif import render_sarif
from stockade.scanner.reporters.terminal import TerminalProgress, print_summary
from stockade.scanner.runner import ScanConfig, ScanResult, run_scan
from stockade.store.blocks import MAX_BLOCK_SECONDS
from stockade.store.database import StoreError
from stockade.store.errors import NotFound
from stockade.store.tenancy import require_service

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan", help="Test an API for OWASP API Top 10 vulnerabilities.",
        description="Send active security tests to one API (only to the --target origin) "
                    "and report the vulnerabilities each check could confirm.")
    parser.add_argument("--target", required=True,
                        help="Base URL of the API, such as http://127.0.0.1:9000; the scan "
                             "sends requests to this origin only.")
    parser.add_argument("--openapi", required=True,
                        help="OpenAPI 3.0 or 3.1 document: a file, or a URL or path on the "
                             "target such as /openapi.yaml.")
    _add_auth_options(parser)
    _add_plan_options(parser)
    _add_output_options(parser)
    parser.set_defaults(handler=run)


def _add_auth_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("authentication")
    group.add_argument("--user", action="append", default=[], metavar="USERNAME:PASSWORD",
                       help="A normal user who logs in at --login-path; repeat (two or more "
                            "for the BOLA check).")
    group.add_argument("--admin", metavar="USERNAME:PASSWORD",
                       help="An admin user who logs in at --login-path.")
    group.add_argument("--login-path", help="Path of the login operation, such as "
                                            "/api/v2/login.")
    group.add_argument("--login-body", type=_json_object,
                       help="JSON template of the login body with {username} and {password}; "
                            'default {"username": "{username}", "password": "{password}"}.')
    group.add_argument("--token-pointer", default="/token",
                       help="JSON pointer of the token in the login response (default /token).")
    group.add_argument("--auth-file", help="YAML list of auth profiles (bearer, api_key, basic, "
                                           "login); see docs/scanner.md.")


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what to send")
    group.add_argument("--include", action="append", default=[], metavar="PATTERN",
                       help="Test only operations whose operationId, 'METHOD /path' or path "
                            "matches this glob; repeatable.")
    group.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                       help="Skip matching operations; repeatable.")
    group.add_argument("--safe", action="store_true",
                       help="Send only GET, HEAD and OPTIONS (besides logins), unless "
                            "--allow-method adds a method.")
    group.add_argument("--allow-method", action="append", default=[], metavar="METHOD",
                       help="A method safe mode may send anyway; repeatable.")

    group.add_argument("--checks", type=_check_list,
                       help=f"Comma-separated checks to run (default all): "
                            f"{', '.join(CHECK_NAMES)}.")

    group.add_argument("--rate", type=float, help="Maximum requests per second (default: no "
                                                  "limit besides --concurrency).")
    group.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                       help=f"Requests in flight at once (default {DEFAULT_CONCURRENCY}).")
    group.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                       help=f"Seconds one request may take (default {DEFAULT_TIMEOUT_SECONDS:g}).")

    group.add_argument("--time-delay", type=float, default=DEFAULT_TIME_DELAY_SECONDS,
                       help=f"Seconds of delay time-based injection probes ask for "
                            f"(default {DEFAULT_TIME_DELAY_SECONDS:g}).")
    group.add_argument("--login-probes", type=int, default=DEFAULT_LOGIN_PROBES,
                       help=f"Failed logins sent to look for a login rate limit "
                            f"(default {DEFAULT_LOGIN_PROBES}).")
    group.add_argument("--expensive-probes", type=int, default=DEFAULT_EXPENSIVE_PROBES,
                       help=f"Calls sent to each expensive operation to look for a rate limit "
                            f"(default {DEFAULT_EXPENSIVE_PROBES}).")

    group.add_argument("--header", action="append", default=[], type=_header,
                       metavar="NAME:VALUE",
                       help="A header sent with every request, such as Host: api.example.test "
                            "to reach a virtual host behind a gateway; repeatable.")
    group.add_argument("--no-canary", action="store_true",
                       help="Do not start the SSRF canary listener on 127.0.0.1 (skips SSRF).")
    group.add_argument("--insecure", action="store_true",
                       help="Do not verify the target's TLS certificate.")


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--json", metavar="FILE",
                       help="Write the JSON report to FILE ('-' for standard output; the "
                            "terminal summary goes to standard error).")
    group.add_argument("--sarif", metavar="FILE", help="Write the SARIF 2.1.0 report to FILE.")
    group.add_argument("--html", metavar="FILE", help="Write the HTML report to FILE.")
    group.add_argument("--blocks", metavar="FILE",
                       help="Write the route blocks that would close findings (JSON) to FILE.")
    group.add_argument("--fail-on", type=_severity, metavar="SEVERITY",
                       help="Exit 1 when a finding has this severity or higher: info, low, "
                            "medium, high or critical.")
    group.add_argument("--quiet", action="store_true", help="Print no progress or summary.")
    group.add_argument("--store-events", metavar="TENANT",
                       help="Store the findings as security events of this tenant.")
    group.add_argument("--service",
                       help="Service id recorded on stored events; with --store-events the "
                            "scan is also recorded as a finished scan of this service.")
    group.add_argument("--block-routes", action="store_true",
                       help="With --store-events and --service: add the route blocks that "
                            "close findings (see --blocks) to the store, where gateways "
                            "with protection.blocking.store_sync_seconds enforce them.")
    group.add_argument("--block-seconds", type=float, default=DEFAULT_BLOCK_SECONDS,
                       metavar="SECONDS",
                       help="How long a route block from --block-routes lasts (default: "
                            f"{DEFAULT_BLOCK_SECONDS:.0f}, 7 days).")
    add_store_options(parser)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid JSON {text!r}: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"invalid login body {text!r}: expected a JSON object")
    return value


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(char in text for char in "\r\n"):
        raise argparse.ArgumentTypeError(f"invalid header {text!r}; use NAME:VALUE")
    return name.strip(), value.strip()


def _check_list(text: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(names - set(CHECK_NAMES))
    if not names:
        raise argparse.ArgumentTypeError(f"no check named in {text!r}; use "
                                         f"{', '.join(CHECK_NAMES)}")
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown check(s) {', '.join(unknown)}; use {', '.join(CHECK_NAMES)}")
    return names


def _severity(text: str) -> Any:
    try:
        return parse_severity(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _profiles(args: argparse.Namespace) -> list[AuthProfile]:
    profiles = load_profiles(args.auth_file) if args.auth_file else []
    logins = [(spec, "user") for spec in args.user]
    if args.admin:
        logins.append((args.admin, "admin"))
    if logins and not args.login_path:
        raise AuthError("--user and --admin need --login-path, the path of the login operation")
    for spec, role in logins:
        profiles.append(login_profile(spec, role, args.login_path, args.login_body,
                                      args.token_pointer))
    names = [profile.name for profile in profiles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AuthError(f"duplicate profile name(s) {', '.join(duplicates)}; give each "
                        "identity one profile")
    return profiles


def _config(args: argparse.Namespace) -> ScanConfig:
    settings = ScanSettings(
        include=args.include, exclude=args.exclude, safe=args.safe,
        allow_methods=frozenset(method.upper() for method in args.allow_method),
        checks=args.checks, time_delay=args.time_delay, login_probes=args.login_probes,
        expensive_probes=args.expensive_probes)
    return ScanConfig(target=args.target, openapi=args.openapi, profiles=_profiles(args),
                      settings=settings, rate=args.rate, concurrency=args.concurrency,
                      timeout=args.timeout, verify_tls=not args.insecure,
                      canary=not args.no_canary, headers=dict(args.header))


def _write(path: str, text: str) -> None:
    """Write a report to ``path``, or to standard output when ``path`` is ``-``."""
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def _write_reports(args: argparse.Namespace, result: ScanResult) -> None:
    if args.json:
        _write(args.json, render_json(result))
    if args.sarif:
        _write(args.sarif, render_sarif(result))
    if args.html:
        _write(args.html, render_html(result))
    if args.blocks:
        blocks = [dataclasses.asdict(block) for block in findings_to_blocks(result.findings)]
        _write(args.blocks, json.dumps(blocks, indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True, quiet=args.quiet)
    if args.block_routes and not (args.store_events and args.service):
        print("--block-routes needs --store-events TENANT and --service SERVICE: a route "
              "block belongs to one service of one tenant", file=sys.stderr)
        return EXIT_ERROR
    if not 0 < args.block_seconds <= MAX_BLOCK_SECONDS:
        print(f"--block-seconds must be between 1 and {MAX_BLOCK_SECONDS}, not "
              f"{args.block_seconds:g}", file=sys.stderr)
        return EXIT_ERROR

    store = None
    if args.store_events:
        # Check where the findings go before the scan, which can take minutes.
        try:
            store = open_store(store_url(args, load_optional_config(args)))
            with store.session(args.store_events, ACTOR) as scope:
                scope.require_tenant(args.store_events)
                if args.service:
                    require_service(scope, args.store_events, args.service)
        except (StoreError, NotFound) as exc:
            print(f"scan not started, its findings could not be stored: {exc}", file=sys.stderr)
            return EXIT_ERROR

    try:
        config = _config(args)
        total = len(args.checks) if args.checks else len(CHECK_NAMES)
        with TerminalProgress(console, total) as progress:
            result = asyncio.run(run_scan(config, progress))
    except (AuthError, OpenApiError, TargetError, ValueError) as exc:
        print(f"scan failed: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print_summary(console, result)

    try:
        _write_reports(args, result)
    except OSError as exc:
        print(f"report not written: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR

    if store is not None:
        try:
            stored = store_findings(store, args.store_events, result.findings, result.started,
                                    args.service)
        except (StoreError, NotFound) as exc:
            print(f"findings not stored: {exc}", file=sys.stderr)
            return EXIT_ERROR
        console.print(f"stored {stored} new event(s) for tenant {args.store_events}")
    if store is not None and args.block_routes:
        try:
            blocked = store_blocks(store, args.store_events, args.service,
                                   findings_to_blocks(result.findings), args.block_seconds)
        except (StoreError, NotFound, ValueError) as exc:
            print(f"route blocks not stored: {exc}", file=sys.stderr)
            return EXIT_ERROR
        console.print(f"stored {blocked} route block(s) for service {args.service}, for "
                      f"{args.block_seconds:.0f} s; gateways refuse these routes when their "
                      "policy sets protection.blocking.store_sync_seconds")

    if args.fail_on is not None and at_or_above(result.findings, args.fail_on):
        return EXIT_FINDINGS
    return EXIT_CLEAN
