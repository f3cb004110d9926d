"""One request and its response passing through the rules.

The transaction contains every variable, the TX collection, the matches and
the interruption. The gateway (or the conformance runner) calls the phase
methods in order: request headers, request body, response headers,
response body, logging. Each phase runs its rules once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from stockade.waf import macros, request_vars
from stockade.waf.bodies import default_processor, process_request_body
from stockade.waf.collections import Collection, MapCollection
from stockade.waf.evaluation import run_phase
from stockade.waf.matches import CAPTURE_KEYS, Interruption, Match, MatchedVar
from stockade.waf.prefilter import TargetScan, ValueScan
from stockade.waf.request import WafRequest, WafResponse
from stockade.waf.request_vars import to_text
from stockade.waf.variables import Pair, resolve_macro

if TYPE_CHECKING:
    from stockade.waf.engine import Engine
    from stockade.waf.rules import Rule




class Transaction:
    """Implements the operators' OperatorContext: capture, set_captures, expand_macros."""

    def __init__(self, engine: Engine, request: WafRequest) -> None:
        self.engine = engine
        self.request = request
        self.response: WafResponse | None = None
        settings = engine.ruleset.settings
        self.rule_engine = settings.rule_engine
        self.request_body_access = settings.request_body_access
        self.request_body_limit = settings.request_body_limit
        self.response_body_access = settings.response_body_access
        self.request_body_processor: str | None = None
        self.force_request_body_variable = False
        self.removals = engine.removals.copy()
        self.scalars: dict[str, bytes] = {}
        self.collections: dict[str, Collection] = {}
        self.tx = MapCollection("TX")
        self.persistent: dict[str, MapCollection] = {}
        self.matched_vars: list[MatchedVar] = []
        self.matched_var = MatchedVar("", b"")
        self.matches: list[Match] = []
        self.interruption: Interruption | None = None
        self.allowed_request = False  # allow or allow:request matched
        self.allowed_all = False  # plain allow matched: skip the remaining phases
        self.capture = False
        self.current_rule: Rule | None = None
        self.transform_cache: dict[tuple[bytes, tuple[str, ...]], list[bytes]] = {}
        self.prefilter_cache: dict[tuple[bytes, int], frozenset[int]] = {}
        # Per phase: the patterns of a screen's set matched by its targets (see screen.py).
        self.screen_unions: dict[tuple[int, int, bool], frozenset[int] | None] = {}
        self.screen_values: dict[int, TargetScan] = {}  # per phase, by targets_id
        self.spec_scans: dict[str, TargetScan] = {}  # per phase, by variable label
        self.resolved_targets: dict[str, list[Pair]] = {}  # per phase, by VariableSpec.selection
        self.link_targets: dict[str, list[Pair]] = {}  # per phase, by Rule.targets_key
        self.plain_scans: dict[bytes, ValueScan] = {}  # see Prefilter.scan_plain
        self.values_generation = 0  # grows each time the values above are forgotten
        # By NumericScreen.memo_key: the TX version and the pairs the comparison matched.
        self.numeric_results: dict[int, tuple[int, list[tuple[str, bytes]]]] = {}
        self.xml_text: bytes | None = None  # all text of an XML body, for XML:/*
        self.xml_attributes: list[bytes] = []  # attribute values, for XML://@*
        self.phases_done: set[int] = set()
        self.started = time.monotonic()
        self._load_request_line()

    # --- OperatorContext ---------------------------------------------------------------

    def set_captures(self, groups: list[bytes]) -> None:
        """Store capture groups as TX:0..TX:9, replacing those of an earlier match."""
        self.tx.remove_keys(CAPTURE_KEYS)
        for key, group in zip(CAPTURE_KEYS, groups, strict=False):
            self.tx.set(key, group)

    def expand_macros(self, text: str) -> str:
        return macros.expand(text, self._macro_text)

    def _macro_text(self, name: str, key: str | None) -> str | None:
        if name == "TX" and key is not None:  # most macros of the CRS; the same result, sooner
            value = self.tx.first(key)
            return None if value is None else to_text(value)
        return resolve_macro(self, name, key)

    def forget_screened_values(self) -> None:
        """Drop what the screens know of this phase's values, after an action changed one."""
        self.values_generation += 1
        self.screen_unions.clear()
        self.screen_values.clear()
        self.spec_scans.clear()
        self.resolved_targets.clear()
        self.link_targets.clear()

    # --- collections used by actions -------------------------------------------------

    def collection(self, name: str) -> MapCollection:
        if name == "TX":
            return self.tx
        if name not in self.persistent:
            self.persistent[name] = MapCollection(name)
        return self.persistent[name]

    def init_collection(self, name: str, key: str) -> None:
        current = self.persistent.get(name)
        if current is not None and current.first("__key") == key.encode():
            return  # already loaded for this key; reloading would drop this request's changes
        self.persistent[name] = self.engine.store.load(name, key)
        self.persistent[name].set("__key", key.encode())

    def expire_variable(self, collection: str, key: str, seconds: int) -> None:
        record = self.persistent.get(collection)
        if record is not None:
            self.engine.store.expire(collection, record, key, seconds)

    # --- phases ----------------------------------------------------------------------

    def process_request_headers(self) -> Interruption | None:
        return self._run(1)

    def process_request_body(self) -> Interruption | None:
        if self.interruption is None and self.rule_engine != "Off":
            process_request_body(self)
        return self._run(2)

    def process_response_headers(self, response: WafResponse) -> Interruption | None:
        self.response = response
        self._load_response_headers(response)
        return self._run(3)

    def process_response_body(self) -> Interruption | None:
        response = self.response
        if response is not None and self._inspects_response_body(response):
            limit = self.engine.ruleset.settings.response_body_limit
            self.scalars["RESPONSE_BODY"] = response.body[:limit]
        return self._run(4)

    def process_logging(self) -> None:
        self._run(5, always=True)
        for name, record in self.persistent.items():
            key = record.first("__key")
            if key is not None:
                self.engine.store.save(name, to_text(key), record)

    def _run(self, phase: int, *, always: bool = False) -> Interruption | None:
        if phase in self.phases_done:
            return self.interruption
        self.phases_done.add(phase)
        if self.rule_engine == "Off":
            return None
        blocked = self.interruption is not None or self.allowed_all
        request_allowed = self.allowed_request and phase <= 2
        if not always and (blocked or request_allowed):
            return self.interruption
        run_phase(self, phase)
        return self.interruption

    # --- variables -----------------------------------------------------------------------

    def _load_request_line(self) -> None:
        request = self.request
        self.scalars.update(request_vars.request_scalars(request))
        arguments, invalid = request_vars.query_arguments(self.scalars["QUERY_STRING"])
        if invalid:
            self.scalars["URLENCODED_ERROR"] = b"1"
        self.collections["ARGS_GET"] = arguments
        self.collections["ARGS_POST"] = Collection("ARGS_POST")
        self.collections["ARGS"] = Collection("ARGS", arguments)
        self.collections["REQUEST_HEADERS"] = request_vars.header_collection(request)
        self.collections["REQUEST_COOKIES"] = request_vars.cookie_collection(request)
        for name in ("FILES", "FILES_SIZES", "FILES_TMPNAMES", "MULTIPART_PART_HEADERS",
                     "RESPONSE_HEADERS"):
            self.collections[name] = Collection(name)
        self.request_body_processor = default_processor(self)
        self.scalars["REQBODY_PROCESSOR"] = (self.request_body_processor or "").encode()
        self.scalars["REQBODY_ERROR"] = b"0"
        self.scalars["REQBODY_PROCESSOR_ERROR"] = b"0"
        self.scalars["REQUEST_BODY_LENGTH"] = b"0"
        self.scalars["FILES_COMBINED_SIZE"] = b"0"

    def _load_response_headers(self, response: WafResponse) -> None:
        headers = Collection("RESPONSE_HEADERS",
                             ((to_text(name), value) for name, value in response.headers))
        self.collections["RESPONSE_HEADERS"] = headers
        self.scalars["RESPONSE_STATUS"] = str(response.status).encode()
        self.scalars["RESPONSE_PROTOCOL"] = response.protocol
        self.scalars["STATUS_LINE"] = response.protocol + b" " + str(response.status).encode()
        content_types = response.header_values(b"content-type")
        self.scalars["RESPONSE_CONTENT_TYPE"] = content_types[0] if content_types else b""
        lengths = response.header_values(b"content-length")
        self.scalars["RESPONSE_CONTENT_LENGTH"] = lengths[0] if lengths else b""

    def _inspects_response_body(self, response: WafResponse) -> bool:
        if not self.response_body_access:
            return False
        content_type = self.scalars.get("RESPONSE_CONTENT_TYPE", b"")
        mime = to_text(content_type.partition(b";")[0].strip().lower())
        return mime in self.engine.ruleset.settings.response_body_mime_types

    def add_argument(self, source: str, name: str, value: bytes) -> None:
        """Add a body argument to ARGS_POST and ARGS, as body processors do."""
        self.collections[source].add(name, value)
        self.collections["ARGS"].add(name, value)

    @property
    def interrupted(self) -> bool:
        return self.interruption is not None

    def elapsed_microseconds(self) -> int:
        return int((time.monotonic() - self.started) * 1_000_000)
