"""The ``@pmFromFile`` operator (also ``@pmf``)."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._phrases import PhraseSet
from stockade.waf.operators._registry import Operator, OperatorError, register
from stockade.waf.operators.pm import PhraseMatch

MAX_PHRASE_FILE_BYTES = 16 * 1024 * 1024  # a phrase list larger than this is a mistake


def read_list_file(operator: str, argument: str, base_dir: Path | None) -> list[str]:
    """Read the non-comment lines of every file named in ``argument``.

    Paths are separated by spaces and resolved against ``base_dir`` (the
    rule file's directory) when relative. Lines are stripped of the line
    ending; blank lines, whitespace-only lines and lines whose first
    non-blank character is ``#`` are skipped.
    """
    names = argument.split()
    if not names:
        raise OperatorError(operator, argument, "no file given")
    lines: list[str] = []
    for name in names:
        if name.startswith(("http://", "https://")):
            raise OperatorError(
                operator, argument, "remote files are not fetched; download it and name its path"
            )
        path = Path(name)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            size = path.stat().st_size
            if size > MAX_PHRASE_FILE_BYTES:
                raise OperatorError(
                    operator,
                    argument,
                    f"{path} has {size} bytes, over the {MAX_PHRASE_FILE_BYTES}-byte limit",
                )
            data = path.read_bytes()
        except OSError as error:
            raise OperatorError(
                operator, argument, f"cannot read {path}: {error.strerror or error}"
            ) from None
        text = data.decode("utf-8", "surrogateescape")
        for line in text.split("\n"):
            line = line.removesuffix("\r")
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                lines.append(line)
    return lines


@register("pmFromFile", "pmf")
def build_pm_from_file(argument: str, base_dir: Path | None) -> Operator:
    """Match when any phrase listed in a file occurs in the value, ignoring ASCII case.

    One phrase per line, kept whole with its inner spaces; blank lines and
    ``#`` comment lines are skipped. With the ``capture`` action, TX.0 is
    the phrase that matched.

    Argument: one or more file paths, relative to the rule file's directory.
    Example: ``@pmFromFile scanners-user-agents.data`` matches ``Mozilla (Nikto/2.5)``
    when the file lists ``nikto``.
    """
    phrases = read_list_file("pmFromFile", argument, base_dir)
    if not phrases:
        raise OperatorError("pmFromFile", argument, "the files hold no phrases")
    return PhraseMatch("pmFromFile", PhraseSet(phrases))
