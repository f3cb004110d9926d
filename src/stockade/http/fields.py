"""Field sections (headers and trailers) of HTTP/1.1 messages.

Names keep the case the peer sent, because some backends are picky about it;
look-ups are case-insensitive. Values are bytes with surrounding whitespace
already removed by the parser.

The first look-up builds an index from lower-cased names to values, so the
many look-ups stages make per request cost one dict access each instead of a
scan that lower-cases every name. Every change drops the index.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator


class Fields:
    """An ordered multi-map of field names to values, with case-insensitive look-up."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._items: list[tuple[bytes, bytes]] = list(items)
        self._index: dict[bytes, list[bytes]] | None = None

    def _lookup(self) -> dict[bytes, list[bytes]]:
        """Return the index from lower-cased names to values, building it when needed."""
        index = self._index
        if index is None:
            index = {}
            for key, value in self._items:
                lowered = key.lower()
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
        values = self._lookup().get(name.lower())
        return values[0] if values else default

    def get_all(self, name: bytes) -> list[bytes]:
        return list(self._lookup().get(name.lower(), ()))

    def add(self, name: bytes, value: bytes) -> None:
        self._items.append((name, value))
        self._index = None

    def set(self, name: bytes, value: bytes) -> None:
        """Replace every field called ``name`` with one field carrying ``value``."""
        self.remove(name)
        self._items.append((name, value))
        self._index = None

    def remove(self, name: bytes) -> None:
        lowered = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != lowered]
        self._index = None

    def remove_many(self, names: Container[bytes]) -> None:
        """Remove every field whose lower-cased name is in ``names``."""
        self._items = [(k, v) for k, v in self._items if k.lower() not in names]
        self._index = None

    def items(self) -> list[tuple[bytes, bytes]]:
        return list(self._items)

    def copy(self) -> Fields:
        return Fields(self._items)

    def to_text(self) -> dict[str, str]:
        """Return a dict of lower-cased names to values joined by ', ', decoded as Latin-1."""
        out: dict[str, str] = {}
        for key, value in self._items:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            out[name] = f"{out[name]}, {text}" if name in out else text
        return out
