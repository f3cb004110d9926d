"""Base pieces shared by every config section, kept apart to avoid import cycles.

Layer packages (auth, waf, ratelimit, ...) define their policy sections with
these and ``config.models`` imports them into ``Policy``.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

Mode = Literal["block", "detect", "off"]
"""What a layer does with a reject verdict: send it, only record an event, or not run."""

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]

KIB = 1024
MIB = 1024 * KIB


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _resolve_config_path(value: str, info: ValidationInfo) -> str:
    base_dir = (info.context or {}).get("base_dir")
    if base_dir is None or os.path.isabs(value):
        return value
    return os.path.normpath(os.path.join(base_dir, value))


ConfigPath = Annotated[str, AfterValidator(_resolve_config_path)]
"""A file path in the config; a relative path is resolved against the config file's folder."""
