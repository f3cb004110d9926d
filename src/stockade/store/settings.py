"""The ``store`` section of the config: where the database is."""

from __future__ import annotations

from pydantic import Field

from stockade.config.base import StrictModel


class StoreSettings(StrictModel):
    url: str = Field("sqlite:///stockade.db",
                     description="sqlite:///PATH (single node) or postgresql://USER@HOST:PORT/DB.")
