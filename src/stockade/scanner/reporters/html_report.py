"""The HTML report: one self-contained page, no scripts, every value escaped."""

from __future__ import annotations

from html import escape

from stockade.scanner.findings import Evidence, Finding
from stockade.scanner.reporters.json_report import iso_time, severity_counts
from stockade.scanner.runner import ScanResult

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d1d1f; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
pre { background: #f4f4f4; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.critical { color: #8b0000; } .high { color: #c0392b; } .medium { color: #b9770e; }
.low { color: #2e86c1; } .info { color: #555; }
details { margin: .4rem 0; }
"""


def _exchange(evidence: Evidence) -> str:
    request = evidence.request
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    if request.body:
        lines += ["", request.body]
    text = "\n".join(lines)
    if evidence.response is not None:
        response = evidence.response
        answer = [f"HTTP {response.status} ({response.elapsed_seconds:.3f} s)"]
        answer += [f"{name}: {value}" for name, value in response.headers]
        if response.body:
            answer += ["", response.body]
        text += "\n\n" + "\n".join(answer)
    return (f"<details><summary>{escape(evidence.note)}</summary>"
            f"<pre>{escape(text)}</pre></details>")


def _finding(finding: Finding) -> str:
    level = finding.severity.name.lower()
    cwe = f", CWE-{finding.cwe}" if finding.cwe is not None else ""
    return (
        f'<section id="{finding.fingerprint}"><h3 class="{level}">{escape(finding.title)}</h3>'
        f"<p><b>{level}</b> · {escape(finding.category)}{cwe} · "
        f"<code>{escape(finding.method)} {escape(finding.path)}</code> · "
        f"{escape(finding.kind)}</p>"
        f"<p>{escape(finding.detail)}</p>"
        f"<p><b>Fix:</b> {escape(finding.remediation)}</p>"
        + "".join(_exchange(item) for item in finding.evidence)
        + "</section>"
    )


def render_html(result: ScanResult) -> str:
    counts = "".join(f'<tr><td class="{name}">{name}</td><td>{count}</td></tr>'
                     for name, count in severity_counts(result).items())
    rows = "".join(
        f'<tr><td class="{item.severity.name.lower()}">{item.severity.name.lower()}</td>'
        f'<td><a href="#{item.fingerprint}">{escape(item.title)}</a></td>'
        f"<td><code>{escape(item.method)} {escape(item.path)}</code></td></tr>"
        for item in result.findings)
    notes = "".join(f"<li>{escape(note)}</li>" for note in result.notes + result.errors)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Stockade scan of {escape(result.target)}</title><style>{STYLE}</style></head>"
        f"<body><h1>Stockade scan of {escape(result.target)}</h1>"
        f"<p>Document {escape(result.document)} · {iso_time(result.started)} to "
        f"{iso_time(result.finished)} · {result.requests} requests · checks: "
        f"{escape(', '.join(result.checks))}</p>"
        f"<h2>Summary</h2><table>{counts}</table>"
        f"<h2>Findings</h2><table><tr><th>severity</th><th>finding</th><th>where</th></tr>"
        f"{rows}</table>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "".join(_finding(item) for item in result.findings)
        + "</body></html>\n"
    )
