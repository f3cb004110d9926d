"""The C module _access compared with the Python code it replaces.

``format_line`` must return the text of ``accesslog._python_line`` for every
entry it formats, and None only for the entries it leaves to that code.
"""

from __future__ import annotations

import json
import random
from types import ModuleType
from typing import Any

import pytest

from stockade.gateway.accesslog import _python_line
from tests.support.compiled import compiled_module

SEED = 20261205
ENTRIES = 20000
ROUTE = '"tenant":"t1","service":"s1","route":"r1"'

TEXTS = ["", "plain", 'quote " backslash \\', "control \x00\x01\x1f\t\r\n\x08\x0c\x7f",
         "latin \xe9\xff", "bmp \u2028\u20ac", "astral \U0001f600\U0010ffff", "lone \ud800"]
RAW = [b"", b"GET", b"/items/1?q=a", bytes(range(256)), b'"\\', b"\x7f\x80\xff"]
FLOATS = [0.0, -0.0, 0.0004, 0.0005, 0.0015, 1.0625, 2.675, 1e11 + 0.0005, 1e12, 1e20,
          float("nan"), float("inf"), -float("inf"), 1733400000.1234]
INTS = [0, 1, 200, 599, 2**63 - 1, 2**63, -1, 10**30]


def compiled_access() -> ModuleType:
    return compiled_module("gateway", "_access")


def random_float(rng: random.Random) -> float:
    if rng.random() < 0.2:
        return rng.choice(FLOATS)
    if rng.random() < 0.3:
        return rng.randint(0, 10**6) / 1000 + rng.choice([0.0, 0.0005, -0.0005])
    return rng.random() * 10 ** rng.randint(-6, 13)


def random_entry(rng: random.Random) -> tuple[Any, ...]:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.3 else value

    return (
        random_float(rng),
        rng.choice(TEXTS),
        None,
        rng.choice(TEXTS),
        rng.choice(RAW),
        rng.choice(RAW),
        rng.choice(RAW),
        rng.choice(INTS),
        rng.choice(INTS),
        rng.choice(INTS),
        random_float(rng),
        maybe(rng.choice(TEXTS)),
        maybe(random_float(rng)),
        maybe(rng.choice(TEXTS)),
        rng.choice(["[]", '[{"stage":"waf","action":"reject","status":403,"reason":"x"}]']),
        maybe(random_float(rng)),
    )


def test_format_line_matches_python() -> None:
    access = compiled_access()
    rng = random.Random(SEED)
    formatted = 0
    for _ in range(ENTRIES):
        entry = random_entry(rng)
        line = access.format_line(entry, ROUTE)
        if line is None:
            continue  # left to _python_line
        formatted += 1
        assert line == _python_line(entry, ROUTE), entry
    assert formatted > ENTRIES // 10


def test_format_line_common_entry() -> None:
    access = compiled_access()
    entry = (1733400000.12345, "abc123", None, "127.0.0.1", b"GET", b"api.test", b"/items/1",
             200, 0, 55, 0.00123, "127.0.0.1:8081", 0.0009, None, "[]", None)
    line = access.format_line(entry, ROUTE)
    assert line == _python_line(entry, ROUTE)
    assert json.loads(line)["duration_ms"] == 1.23


@pytest.mark.parametrize(
    "position, value",
    [(0, float("nan")), (7, 2**64), (10, 1e13), (1, b"bytes, not str"), (14, "caf\xe9")],
)
def test_format_line_leaves_uncovered_entries(position: int, value: Any) -> None:
    access = compiled_access()
    entry = [1.0, "id", None, "client", b"GET", b"host", b"/", 200, 0, 0, 0.001, None, None, None,
             "[]", None]
    entry[position] = value
    assert access.format_line(tuple(entry), ROUTE) is None


def test_format_line_other_entry_left_to_python() -> None:
    access = compiled_access()
    assert access.format_line((1.0,), ROUTE) is None
    assert access.format_line([None] * 16, ROUTE) is None
    with pytest.raises(TypeError):
        access.format_line((1.0,))
