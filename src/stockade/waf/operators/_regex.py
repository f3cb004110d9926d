"""One ``@rx`` pattern compiled for hyperscan and RE2."""

from __future__ import annotations

import logging

import hyperscan
import re2

from stockade.waf.operators._pattern_syntax import for_hyperscan, for_re2, without_possessive
from stockade.waf.operators._text import to_bytes

log = logging.getLogger(__name__)

MAX_CAPTURES = 10  # TX.0 (the whole match) to TX.9
WHOLE_VALUE_PATTERN = "^.*$"
MAX_ENGINE_MESSAGE = 160  # characters kept of an engine's error, which may quote the pattern

HYPERSCAN_FLAGS = (
    hyperscan.HS_FLAG_DOTALL | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
)


class RegexCompileError(ValueError):
    """Raised when neither hyperscan nor RE2 accepts a pattern."""


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # match bytes, not UTF-8 characters
    options.dot_nl = True  # PCRE_DOTALL
    options.log_errors = False
    return options


RE2_OPTIONS = _re2_options()


def _stop_scan(_id: int, _start: int, _end: int, _flags: int, _context: object) -> bool:
    return True  # one match is enough; hyperscan raises ScanTerminated


def _error_text(error: Exception) -> str:
    """Return an RE2 error's message; the binding passes it as bytes."""
    message = error.args[0] if error.args else error
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return _clip(text)


def _clip(text: str) -> str:
    if len(text) <= MAX_ENGINE_MESSAGE:
        return text
    return text[:MAX_ENGINE_MESSAGE] + "..."


def compile_hyperscan(pattern: bytes) -> hyperscan.Database:
    """Compile one pattern into a block-mode database; raises hyperscan.error."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[pattern], ids=[0], elements=1, flags=[HYPERSCAN_FLAGS])
    return database


class CompiledRegex:
    """A pattern ready for matching with hyperscan and for captures with RE2.

    Matching uses hyperscan when it compiled the pattern, RE2 otherwise.
    Captures always use RE2, whose leftmost-first semantics pick the same
    match and groups as PCRE.
    """

    __slots__ = ("__weakref__", "_hyperscan", "_re2", "_whole", "engine_pattern", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        # The text the engines compiled: the pattern, or it without possessive quantifiers.
        self.engine_pattern = pattern
        # With dot-all set, "^.*$" matches every value as a whole, so no engine
        # needs to run. The CRS applies it to every header name and User-Agent.
        self._whole = pattern == WHOLE_VALUE_PATTERN
        self._hyperscan: hyperscan.Database | None = None
        self._re2: re2._Regexp | None = None
        hyperscan_error, re2_error = self._compile(pattern)
        greedy = None
        if self._hyperscan is None and self._re2 is None:
            greedy = without_possessive(pattern)
        if greedy is not None:
            # Neither engine backtracks, so the possessive form, which only stops
            # PCRE's backtracking, has no equivalent there. The greedy form is closest.
            _, greedy_re2_error = self._compile(greedy)
            if self._hyperscan is not None or self._re2 is not None:
                self.engine_pattern, re2_error = greedy, greedy_re2_error
                log.info("possessive quantifiers of %r are read as greedy, which may match "
                         "more values", _clip(pattern))
        if self._hyperscan is None and self._re2 is None:
            raise RegexCompileError(
                f"neither hyperscan ({hyperscan_error}) nor RE2 ({re2_error}) can compile it"
            )
        if self._re2 is None:
            log.warning("RE2 cannot compile %r (%s); captures will be empty", pattern, re2_error)

    def _compile(self, pattern: str) -> tuple[str, str]:
        """Compile ``pattern`` with both engines; return their errors ("" for success)."""
        hyperscan_error = re2_error = ""
        try:
            self._hyperscan = compile_hyperscan(to_bytes(for_hyperscan(pattern)))
        except hyperscan.error as error:
            hyperscan_error = _clip(str(error))
        try:
            self._re2 = re2.compile(to_bytes(for_re2(pattern)), RE2_OPTIONS)
        except re2.error as error:
            re2_error = _error_text(error)
        return hyperscan_error, re2_error

    @property
    def engines(self) -> tuple[str, ...]:
        """Names of the engines that compiled the pattern."""
        names = []
        if self._hyperscan is not None:
            names.append("hyperscan")
        if self._re2 is not None:
            names.append("re2")
        return tuple(names)

    def search(self, value: bytes) -> bool:
        """Return True when the pattern matches anywhere in ``value``."""
        if self._whole:
            return True
        if self._hyperscan is not None:
            try:
                self._hyperscan.scan(value, match_event_handler=_stop_scan)
            except hyperscan.ScanTerminated:
                return True
            # The hyperscan build of python-hyperscan 0.9.1 misses some matches
            # on longer values (`a.+b\s*c` past about 55 bytes), so RE2 confirms
            # a miss. The one place RE2 differs from PCRE, a multi-line "^"
            # after a newline that ends the value, keeps hyperscan's verdict.
            if self._re2 is not None and not value.endswith(b"\n"):
                return self._re2.search(value) is not None
            return False
        # NOTE: for a pattern only RE2 compiles, a multi-line "^" also matches
        # after a newline that ends the value, which PCRE does not allow.
        return self._re2 is not None and self._re2.search(value) is not None

    def re2_search(self, value: bytes) -> bool | None:
        """Return RE2's own verdict, or None without RE2; for checking the engines agree."""
        if self._re2 is None:
            return None
        return self._re2.search(value) is not None

    def search_groups(self, value: bytes) -> list[bytes] | None:
        """Return the whole match and its groups, or None when nothing matches.

        A group that did not take part in the match is b"". Trailing such
        groups are left out, and at most MAX_CAPTURES entries are returned.
        """
        if self._whole:
            return [value]
        if self._re2 is None:
            return [] if self.search(value) else None
        if self._hyperscan is not None and not self.search(value):
            # Hyperscan follows PCRE where RE2 differs: RE2's multi-line "^"
            # also matches after a newline that ends the value.
            return None
        match = self._re2.search(value)
        if match is None:
            return None
        groups = [match.group(0), *match.groups()][:MAX_CAPTURES]
        while groups and groups[-1] is None:
            groups.pop()
        return [group if group is not None else b"" for group in groups]
