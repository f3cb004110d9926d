"""Entry point for ``python -m demo_api`` and ``python examples/demo_api``."""

import sys
from pathlib import Path

if not __package__:
    # Run as ``python examples/demo_api``: make the package importable by name.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo_api.server import main

sys.exit(main())
