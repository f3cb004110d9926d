"""Stockade's deliberately vulnerable demo API and its fixed variant.

Run it with ``python examples/demo_api [--fixed] [--port N]``; README.md
beside this file explains more, and VULNERABILITIES.md lists every planted hole.
"""

from demo_api.app import create_app
from demo_api.settings import Settings

__all__ = ["Settings", "create_app"]
