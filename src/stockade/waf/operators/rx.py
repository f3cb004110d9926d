"""The ``@rx`` operator."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from pathlib import Path

from stockade.waf.operators._regex import CompiledRegex, RegexCompileError
from stockade.waf.operators._registry import Operator, OperatorContext, OperatorError, register

MAX_EXPANDED_PATTERNS = 64  # compiled patterns cached per rule whose pattern contains macros

# Patterns written in rule files, shared by every rule set of the process that
# uses them, so tenants loading the same CRS compile each pattern once (a
# hyperscan compile takes up to a second for the largest CRS patterns). An
# entry lives as long as some operator refers to it.
# NOTE: a hyperscan database has one scratch space, so scans must come from one
# thread at a time (a worker's event loop). A concurrent scan raises
# hyperscan.ScratchInUseError.
_STATIC_PATTERNS: weakref.WeakValueDictionary[str, CompiledRegex] = weakref.WeakValueDictionary()


class Rx:
    """Match a PCRE-style regular expression anywhere in the value.

    The pattern runs in byte mode with dot-all and multi-line mode set, as
    ModSecurity v3 compiles it, so ``^`` and ``$`` also match at line
    breaks. Inline flags such as ``(?i)`` work. With the ``capture`` action,
    TX.0 is the whole match and TX.1 to TX.9 its groups. Macros in the
    pattern are expanded when the rule runs.

    Argument: the regular expression.
    Example: ``@rx (?i)union\\s+select`` matches ``1 UNION  SELECT 2``.
    """

    name = "rx"

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled: CompiledRegex | None = None
        self._expanded: OrderedDict[str, CompiledRegex] = OrderedDict()
        if "%{" not in pattern:
            self.compiled = _STATIC_PATTERNS.get(pattern)
            if self.compiled is None:
                self.compiled = _compile(pattern)
                _STATIC_PATTERNS[pattern] = self.compiled

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        compiled = self.compiled or self._compile_expanded(ctx.expand_macros(self.pattern))
        if not ctx.capture:
            return compiled.search(value)
        groups = compiled.search_groups(value)
        if groups is None:
            return False
        if groups:
            ctx.set_captures(groups)
        return True

    def _compile_expanded(self, pattern: str) -> CompiledRegex:
        compiled = self._expanded.get(pattern)
        if compiled is None:
            # NOTE: an expanded pattern that fails to compile raises
            # OperatorError while the rule runs; the engine decides what then.
            compiled = _compile(pattern)
            self._expanded[pattern] = compiled
            if len(self._expanded) > MAX_EXPANDED_PATTERNS:
                self._expanded.popitem(last=False)
        else:
            self._expanded.move_to_end(pattern)
        return compiled


def _compile(pattern: str) -> CompiledRegex:
    try:
        return CompiledRegex(pattern)
    except RegexCompileError as error:
        raise OperatorError("rx", pattern, str(error)) from None


@register("rx")
def build_rx(argument: str, base_dir: Path | None) -> Operator:
    return Rx(argument)
