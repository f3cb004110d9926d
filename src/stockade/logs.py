"""Operational logging: plain text for a terminal, JSON lines otherwise.

Security events never go through here; they have their own pipeline.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data)


def configure_logging(level: str = "info") -> None:
    """Log to standard error; JSON unless it is a terminal or STOCKADE_LOG_FORMAT=text."""
    handler = logging.StreamHandler(sys.stderr)
    style = os.environ.get("STOCKADE_LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json")
    if style == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic logs every migration plugin at INFO when the store opens.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
