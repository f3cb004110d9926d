"""The ``store`` section of the config: where the database is."""

from __future__ import annotations

import os

from pydantic import Field, ValidationInfo, field_validator

from stockade.config.base import StrictModel

SQLITE_PREFIX = "sqlite:///"


class StoreSettings(StrictModel):
    url: str = Field(
        "sqlite:///stockade.db",
        description="sqlite:///PATH (single node; a relative PATH is resolved against "
        "the config file's folder) or postgresql://USER@HOST:PORT/DB.",
    )

    @field_validator("url")
    @classmethod
    def _resolve_sqlite_path(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        if base_dir is None or not value.startswith(SQLITE_PREFIX):
            return value
        path = value[len(SQLITE_PREFIX) :]
        if not path or path == ":memory:" or os.path.isabs(path):
            return value
        return SQLITE_PREFIX + os.path.normpath(os.path.join(base_dir, path))
