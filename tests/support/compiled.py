"""Access to the hand-written C modules of the compiled build, for tests that compare them
with the Python code they replace."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from stockade import native


def compiled_module(package: str, name: str) -> ModuleType:
    """Return ``stockade.<package>.<name>``, or skip when this checkout has no compiled build.

    A build that matches the sources but lacks the module fails the test.
    """
    if not native.attach([], package):
        pytest.skip("no compiled build of the sources: run scripts/bootstrap to build it")
    try:
        return importlib.import_module(f"stockade.{package}.{name}")
    except ImportError as error:
        pytest.fail(f"the compiled build has no {name} module: {error}")
