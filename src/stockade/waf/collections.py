"""Collections of request data: ordered multi-maps with case-insensitive keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class Collection:
    """An ordered list of ``(key, value)`` pairs; a key may repeat (``a=1&a=2``).

    Keys keep their original spelling for MATCHED_VAR_NAME, and lookups
    ignore case, as SecLang selectors do. The values by lower-case key are
    indexed at the first lookup, and the index is dropped at every change.
    """

    __slots__ = ("_by_key", "_items", "name")

    def __init__(self, name: str, items: Iterable[tuple[str, bytes]] = ()) -> None:
        self.name = name
        self._items: list[tuple[str, bytes]] = list(items)
        self._by_key: dict[str, list[bytes]] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._items)

    def add(self, key: str, value: bytes) -> None:
        self._items.append((key, value))
        self._by_key = None

    def set(self, key: str, value: bytes) -> None:
        """Replace every value of ``key`` with one value."""
        self.remove(key)
        self._items.append((key, value))

    def remove(self, key: str) -> None:
        lowered = key.lower()
        self._items = [item for item in self._items if item[0].lower() != lowered]
        self._by_key = None

    def get(self, key: str) -> list[bytes]:
        by_key = self._by_key
        if by_key is None:
            by_key = {}
            for name, value in self._items:
                by_key.setdefault(name.lower(), []).append(value)
            self._by_key = by_key
        return list(by_key.get(key.lower(), ()))

    def first(self, key: str) -> bytes | None:
        lowered = key.lower()
        for name, value in self._items:
            if name.lower() == lowered:
                return value
        return None

    def keys(self) -> list[str]:
        return [name for name, _ in self._items]

    def clear(self) -> None:
        self._items.clear()
        self._by_key = None


class MapCollection(Collection):
    """A collection with one value per key, such as TX or IP, indexed for speed.

    ``version`` grows at every change, so a result computed from the values
    can be reused while the version is the same.
    """

    __slots__ = ("_map", "version")

    def __init__(self, name: str, items: Iterable[tuple[str, bytes]] = ()) -> None:
        super().__init__(name)
        self._map: dict[str, tuple[str, bytes]] = {}
        self.version = 0
        for key, value in items:
            self.set(key, value)

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(list(self._map.values()))

    def add(self, key: str, value: bytes) -> None:
        self.set(key, value)

    def set(self, key: str, value: bytes) -> None:
        self._map[key.lower()] = (key, value)
        self.version += 1

    def remove(self, key: str) -> None:
        self._map.pop(key.lower(), None)
        self.version += 1

    def remove_keys(self, keys: tuple[str, ...]) -> None:
        """Remove ``keys``, which are already in lower case."""
        self.version += 1
        pop = self._map.pop
        for key in keys:
            pop(key, None)

    def get(self, key: str) -> list[bytes]:
        item = self._map.get(key.lower())
        return [item[1]] if item is not None else []

    def first(self, key: str) -> bytes | None:
        item = self._map.get(key.lower())
        return item[1] if item is not None else None

    def keys(self) -> list[str]:
        return [key for key, _ in self._map.values()]

    def clear(self) -> None:
        self._map.clear()
        self.version += 1

    def snapshot(self) -> dict[str, tuple[str, bytes]]:
        return dict(self._map)

    def apply(self, writes: tuple[tuple[str, tuple[str, bytes]], ...],
              removed: tuple[str, ...]) -> None:
        """Set entries taken from a snapshot, as ``(lower-case key, (key, value))``, and
        remove ``removed`` keys, which are in lower case."""
        if not writes and not removed:
            return
        self.version += 1
        self._map.update(writes)
        for key in removed:
            self._map.pop(key, None)
