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
    """Return the pattern of an ``@rx`` operator as written in the rule, else None.

    Patterns that hold macros return None, because their text is only known
    when the rule runs. Compile the pattern with ``HS_FLAG_DOTALL`` to match
    as ``@rx`` does. Hyperscan's ``$`` also matches before a final newline,
    so a prefilter built from this text may pass a few more values than the
    operator. It never rejects a value the operator would match.
    """
    if isinstance(operator, rx.Rx) and "%{" not in operator.pattern:
        return operator.pattern
    return None
