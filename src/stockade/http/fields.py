"""Field sections (headers and trailers) of HTTP/1.1 messages.

Names keep the case the peer sent, because some backends are picky about it;
look-ups are case-insensitive. Values are bytes with surrounding whitespace
already removed by the parser.

The lower-cased names are kept beside the items (the parser hands them
over), so filtering a section lower-cases no name again. The first look-up
builds an index from lower-cased names to values, so the many look-ups
stages make per request cost one dict access each instead of a scan.
Adding a field updates the index, and removing one drops it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from typing import Final

SCAN_MAX_FIELDS: Final = 8
"""Sections with at most this many fields are searched by ``get`` without building an index."""


class Fields:
    """An ordered multi-map of field names to values, with case-insensitive look-up."""

    __slots__ = ("_index", "_items", "_names")

    def __init__(
        self,
        items: Iterable[tuple[bytes, bytes]] = (),
        *,
        lowered_names: list[bytes] | None = None,
    ) -> None:
        """Store ``items`` in order.

        ``lowered_names`` is the list of lower-cased names of ``items``, in the
        same order, when the caller already has it (the parser does); the
        Fields object takes it over and keeps it in step with every change.
        """
        self._items: list[tuple[bytes, bytes]] = list(items)
        self._names = lowered_names
        self._index: dict[bytes, list[bytes]] | None = None

    def lowered_names(self) -> list[bytes]:
        """Return the lower-cased names in order; the caller must not change the list."""
        names = self._names
        if names is None:
            names = self._names = [key.lower() for key, _ in self._items]
        return names

    def _lookup(self) -> dict[bytes, list[bytes]]:
        """Return the index from lower-cased names to values, building it when needed."""
        index = self._index
        if index is None:
            index = {}
            for lowered, (_, value) in zip(self.lowered_names(), self._items, strict=True):
                values = index.get(lowered)
                if values is None:
                    index[lowered] = [value]
                else:
                    values.append(value)
            self._index = index
        return index

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, bytes):
            return False
        return self.get(name) is not None

    def __eq__(self, other: object) -> bool:
        """Compare names and values in order; name case counts, as the peer sent it."""
        if not isinstance(other, Fields):
            return NotImplemented
        return self._items == other._items

    __hash__ = None  # type: ignore[assignment]  # mutable, like list

    def __repr__(self) -> str:
        return f"Fields({self._items!r})"

    def get(self, name: bytes, default: bytes | None = None) -> bytes | None:
        """Return the first value of ``name`` (matched case-insensitively), or ``default``."""
        index = self._index
        if index is None and len(self._items) <= SCAN_MAX_FIELDS:
            names = self.lowered_names()
            lowered = name.lower()
            if lowered in names:
                return self._items[names.index(lowered)][1]
            return default
        values = self._lookup().get(name.lower())
        return values[0] if values else default

    def get_all(self, name: bytes) -> list[bytes]:
        return list(self._lookup().get(name.lower(), ()))

    def add(self, name: bytes, value: bytes) -> None:
        self._items.append((name, value))
        names = self._names
        if names is not None:
            lowered = name.lower()
            names.append(lowered)
            index = self._index
            if index is not None:
                index.setdefault(lowered, []).append(value)

    def set(self, name: bytes, value: bytes) -> None:
        """Replace every field called ``name`` with one field carrying ``value``."""
        self.remove(name)
        self.add(name, value)

    def remove(self, name: bytes) -> None:
        self.remove_many((name.lower(),))

    def remove_many(self, names: Container[bytes]) -> None:
        """Remove every field whose lower-cased name is in ``names``."""
        lowered = self.lowered_names()
        if isinstance(names, frozenset | set) and names.isdisjoint(lowered):
            return
        kept_indexes = [index for index, key in enumerate(lowered) if key not in names]
        if len(kept_indexes) == len(lowered):
            return
        items = self._items
        self._items = [items[index] for index in kept_indexes]
        self._names = [lowered[index] for index in kept_indexes]
        self._index = None

    def items(self) -> list[tuple[bytes, bytes]]:
        return list(self._items)

    def items_view(self) -> list[tuple[bytes, bytes]]:
        """Return the (name, value) pairs in order without a copy; the caller must not change it."""
        return self._items

    def copy(self) -> Fields:
        names = self._names
        return Fields(self._items, lowered_names=None if names is None else list(names))

    def to_text(self) -> dict[str, str]:
        """Return a dict of lower-cased names to values joined by ', ', decoded as Latin-1."""
        out: dict[str, str] = {}
        for key, value in self._items:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            out[name] = f"{out[name]}, {text}" if name in out else text
        return out
