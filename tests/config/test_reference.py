from __future__ import annotations

from pathlib import Path

from stockade.config.reference import render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_reference_lists_every_section() -> None:
    text = render_reference()
    for section in ("## GatewayConfig", "## Listener", "## Limits", "## Upstream", "## Policy"):
        assert section in text
    assert "| `max_header_bytes` | integer | `16384` |" in text


def test_committed_reference_is_current() -> None:
    expected = render_reference()
    assert DOC.read_text() == expected, (
        "docs/configuration.md is stale; regenerate it with "
        "`stockade config reference > docs/configuration.md`"
    )
