"""SecLang operators: the ``@name argument`` test at the heart of each rule.

Each operator lives in its own module named after its SecLang name and
registers a factory on import. :func:`build_operator` compiles the argument
once, when the rules load; ``evaluate`` then runs per value. Negation
(``!@rx``) is left to the engine.
"""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators import (
    begins_with,
    contains,
    contains_word,
    detect_sqli,
    detect_xss,
    ends_with,
    eq,
    ge,
    gt,
    ip_match,
    ip_match_from_file,
    le,
    lt,
    no_match,
    pm,
    pm_from_file,
    rx,
    streq,
    strmatch,
    unconditional_match,
    validate_byte_range,
    validate_url_encoding,
    validate_utf8_encoding,
    within,
)
from stockade.waf.operators._pattern_syntax import for_hyperscan
from stockade.waf.operators._registry import (
    Operator,
    OperatorContext,
    OperatorError,
    factory_for,
    registered_names,
)
from stockade.waf.operators.unsupported import reject_unsupported

__all__ = [
    "OPERATOR_NAMES",
    "Operator",
    "OperatorContext",
    "OperatorError",
    "build_operator",
    "has_pure_result",
    "regex_patterns",
]

# The modules above are imported for their registration side effect.
_MODULES = (
    begins_with,
    contains,
    contains_word,
    detect_sqli,
    detect_xss,
    ends_with,
    eq,
    ge,
    gt,
    ip_match,
    ip_match_from_file,
    le,
    lt,
    no_match,
    pm,
    pm_from_file,
    rx,
    streq,
    strmatch,
    unconditional_match,
    validate_byte_range,
    validate_url_encoding,
    validate_utf8_encoding,
    within,
)

OPERATOR_NAMES: frozenset[str] = registered_names()

PURE_OPERATORS = frozenset(name.lower() for name in (
    "beginsWith", "contains", "containsWord", "detectSQLi", "detectXSS", "endsWith", "eq", "ge",
    "gt", "ipMatch", "ipMatchFromFile", "ipMatchF", "le", "lt", "noMatch", "pm", "pmFromFile",
    "pmf", "rx", "streq", "strmatch", "validateByteRange", "validateUrlEncoding",
    "validateUtf8Encoding", "within",
))
"""Operators whose result, without macros in the argument, depends on the value alone.

Captures are left out of that: they are only set on a match.
"""


def has_pure_result(name: str, argument: str) -> bool:
    """Return True when ``@name argument`` gives the same result for the same value."""
    return name.lower() in PURE_OPERATORS and "%{" not in argument


def build_operator(name: str, argument: str, *, base_dir: Path | None = None) -> Operator:
    """Compile ``@name argument`` into an operator.

    ``name`` is written without ``@`` and matched in any letter case.
    ``base_dir`` resolves the relative file names of ``@pmFromFile`` and
    ``@ipMatchFromFile``, normally the directory of the rule file.

    Raises OperatorError, naming the operator, the argument and the reason,
    for an unknown or unsupported operator, a regex neither hyperscan nor
    RE2 can compile, an unreadable file or an invalid list.
    """
    reject_unsupported(name, argument)
    factory = factory_for(name, argument)
    try:
        return factory(argument, base_dir)
    except OperatorError:
        raise
    except ValueError as error:
        raise OperatorError(name, argument, str(error)) from None


def regex_patterns(operator: Operator) -> str | None:
    """Return the pattern of an ``@rx`` operator ready for hyperscan, else None.

    The text is the pattern the engines compiled (the rule's, or it with
    possessive quantifiers made greedy) with ``(?m)`` in front, so hyperscan
    compiled with ``HS_FLAG_DOTALL`` matches as ``@rx`` does: ModSecurity v3
    sets dot-all and multi-line mode. Patterns that contain macros return
    None, because their text is only known when the rule runs.
    """
    if isinstance(operator, rx.Rx) and operator.compiled is not None:
        return for_hyperscan(operator.compiled.engine_pattern)
    return None
