"""Load a YAML config file into a validated ``GatewayConfig``.

Errors carry the file, the key path, the line, the bad value and a hint, so
``stockade config validate`` can print each of them on one line.
"""

from __future__ import annotations

import difflib
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from stockade.config.models import GatewayConfig

MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""Larger files are surely a mistake (a log passed by accident, say)."""

SIMILAR_KEY_CUTOFF = 0.75
"""The minimum similarity (difflib's ratio) of a valid key offered for an unknown one."""


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str
    key_path: str  # e.g. tenants[0].services[1].upstream.targets
    line: int | None
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        shown = "" if self.value is None else f" (got {_short_repr(self.value)})"
        return f"{where}: {self.key_path or '<root>'}: {self.message}{shown}"


class ConfigError(Exception):
    """The config file cannot be used; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(issue) for issue in issues))
        self.issues = issues


def load_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Read, parse and validate a config file; raise ConfigError with every issue found."""
    file = str(path)
    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(file, "", None, f"cannot read the file: {exc.strerror}")]
        ) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [ConfigIssue(file, "", None, f"file is larger than {MAX_CONFIG_BYTES} bytes")]
        )
    return parse_config(raw, file, base_dir=os.path.dirname(os.path.abspath(file)))


def parse_config(
    text: bytes | str, file: str = "<config>", base_dir: str | None = None
) -> GatewayConfig:
    data, lines = _parse_yaml(text, file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigIssue(
                    file, "", 1, "the top level must be a mapping of settings", type(data).__name__
                )
            ]
        )
    try:
        return GatewayConfig.model_validate(data, context={"base_dir": base_dir or os.getcwd()})
    except ValidationError as exc:
        raise ConfigError(
            [_issue_from_error(file, error, lines) for error in exc.errors()]
        ) from None


def _parse_yaml(text: bytes | str, file: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(file, "", line, f"invalid YAML: {problem}")]) from None
    if node is None:
        return None, {}
    lines: dict[tuple[Any, ...], int] = {}
    try:
        data = _construct(node, (), lines)
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError([ConfigIssue(file, "", None, f"invalid YAML: {exc}")]) from None
    return data, lines


def _construct(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(b"").construct_object(key_node)  # scalars only
            if key in result:
                raise ValueError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
            result[key] = _construct(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, index), lines) for index, item in enumerate(node.value)]
    loader = yaml.SafeLoader(b"")
    return loader.construct_object(node, deep=True)


def _issue_from_error(file: str, error: Any, lines: dict[tuple[Any, ...], int]) -> ConfigIssue:
    loc = tuple(error.get("loc", ()))
    key_path = _format_loc(loc)
    line = None
    probe = loc
    while probe:
        if probe in lines:
            line = lines[probe]
            break
        probe = probe[:-1]
    if line is None:
        line = lines.get(())
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown key; check the spelling against `stockade config schema`"
        suggestion = _similar_key(loc)
        if suggestion is not None:
            message = f"unknown key; did you mean {suggestion!r}?"
    elif error.get("type") == "missing":
        message = "required key is missing"
    value = None if error.get("type") == "missing" else error.get("input")
    if isinstance(value, dict | list):
        value = None
    return ConfigIssue(file, key_path, line, message, value)


def _similar_key(loc: tuple[Any, ...]) -> str | None:
    """Return the valid key closest to the unknown last key of ``loc``, if one is close."""
    if not loc or not isinstance(loc[-1], str):
        return None
    models: list[type[BaseModel]] = [GatewayConfig]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # a list index: the models of the list's items are already in place
        fields = [model.model_fields[part] for model in models if part in model.model_fields]
        if not fields:
            continue  # a union member's tag or a mapping's key: the models stay the same
        models = [found for field in fields for found in _models_in(field.annotation)]
    names = sorted({name for model in models for name in model.model_fields})
    close = difflib.get_close_matches(loc[-1], names, n=1, cutoff=SIMILAR_KEY_CUTOFF)
    return close[0] if close else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Return the config models that ``annotation`` holds, through unions, lists and mappings."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models_in(argument)]


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or "function-after" in part):
            continue  # pydantic's names for validator wrappers, not keys of the file
        else:
            text += f".{part}" if text else str(part)
    return text


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
