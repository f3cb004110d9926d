"""Case-insensitive multi-phrase search for ``@pm`` and ``@pmFromFile``."""

from __future__ import annotations

import hyperscan

from stockade.waf.operators._text import to_bytes

_PHRASE_FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH


class _FirstMatch:
    """Scan context that keeps the id of the phrase that ends first."""

    __slots__ = ("phrase_id",)

    def __init__(self) -> None:
        self.phrase_id = -1


def _stop_at_first(phrase_id: int, _start: int, _end: int, _flags: int, found: object) -> bool:
    if isinstance(found, _FirstMatch):
        found.phrase_id = phrase_id
    return True  # hyperscan raises ScanTerminated


class PhraseSet:
    """A set of phrases matched anywhere in a value, ignoring ASCII letter case.

    Phrases are compiled as hyperscan literals, so no byte in them is special.
    """

    __slots__ = ("_database", "phrases")

    def __init__(self, phrases: list[str]) -> None:
        unique = list(dict.fromkeys(phrase for phrase in phrases if phrase))
        if not unique:
            raise ValueError("no phrases to match")
        self.phrases = [to_bytes(phrase) for phrase in unique]
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=self.phrases,
            ids=list(range(len(self.phrases))),
            elements=len(self.phrases),
            flags=[_PHRASE_FLAGS] * len(self.phrases),
            literal=True,
        )

    def as_regex(self) -> str:
        """Return one RE2 pattern that matches wherever a phrase occurs, for the prefilter.

        Every byte is escaped, and ``(?i)`` folds Latin-1 letters as well as
        ASCII ones, so the pattern matches at least where the phrases do.
        """
        alternatives = ("".join(f"\\x{byte:02x}" for byte in phrase) for phrase in self.phrases)
        return "(?i:" + "|".join(alternatives) + ")"

    def first_match(self, value: bytes) -> bytes | None:
        """Return the phrase, as listed, whose first occurrence ends earliest in ``value``."""
        found = _FirstMatch()
        try:
            self._database.scan(value, match_event_handler=_stop_at_first, context=found)
        except hyperscan.ScanTerminated:
            return self.phrases[found.phrase_id]
        return None
