"""The mypyc build of the hot modules: used only when it matches the sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stockade import native

# Imports the WAF in a fresh process, reports whether a SQL injection rule
# still matches through it, and where evaluation.py and the HTTP parser came from.
PROBE = """
import stockade.waf.evaluation as evaluation
from stockade.waf.builder import RuleSetBuilder
from stockade.waf.engine import Engine
from stockade.waf.prefilter import build_prefilter
from stockade.waf.request import WafRequest
from stockade.waf.seclang import read_directives

builder = RuleSetBuilder()
builder.add(read_directives(
    'SecRule ARGS "@detectSQLi" "id:1,phase:2,deny,status:403,log"\\n'
    'SecRule ARGS "@rx ^admin$" "id:2,phase:2,pass,log,t:lowercase"\\n', "probe.conf"))
ruleset = builder.build()
ruleset.use_prefilter(build_prefilter(ruleset))
engine = Engine(ruleset)
for target in (b"/?q=1%27%20OR%20%271%27=%271", b"/?q=ADMIN", b"/?q=hello"):
    transaction = engine.transaction(WafRequest(b"GET", target, headers=[(b"Host", b"a")]))
    transaction.process_request_headers()
    transaction.process_request_body()
    print([match.rule_id for match in transaction.matches])
print(evaluation.__file__)
import stockade.http.parser as parser
print(parser.__file__)
"""


def _probe(directory: Path, switch: str = "1") -> list[str]:
    environment = dict(os.environ, STOCKADE_NATIVE_DIR=str(directory), STOCKADE_NATIVE=switch)
    output = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=environment, check=True).stdout
    return output.strip().splitlines()


def test_stale_manifest_not_attached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / native.MANIFEST).write_text(json.dumps({"digest": "0" * 64}))
    monkeypatch.setenv(native.DIRECTORY_VARIABLE, str(tmp_path))
    monkeypatch.delenv(native.SWITCH_VARIABLE, raising=False)
    package_path = ["/somewhere/stockade/waf"]
    assert not native.attach(package_path, "waf")
    assert package_path == ["/somewhere/stockade/waf"]


def test_missing_build_not_attached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.DIRECTORY_VARIABLE, str(tmp_path / "absent"))
    package_path: list[str] = []
    assert not native.attach(package_path, "waf")
    assert package_path == []


def test_switch_turns_build_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / native.MANIFEST).write_text(json.dumps({"digest": native.source_digest()}))
    monkeypatch.setenv(native.DIRECTORY_VARIABLE, str(tmp_path))
    monkeypatch.setenv(native.SWITCH_VARIABLE, "0")
    package_path: list[str] = []
    assert not native.attach(package_path, "waf")
    assert package_path == []


def test_build_compiles_and_is_used(tmp_path: Path) -> None:
    directory = tmp_path / "native"
    assert native.build(directory)
    manifest = json.loads((directory / native.MANIFEST).read_text())
    assert manifest["digest"] == native.source_digest()
    for package, names in native.COMPILED.items():
        for name in names:
            assert list((directory / "stockade" / package).glob(f"{name}.*.so")), name
    assert manifest["c_modules"] == {
        package: list(names) for package, names in native.C_MODULES.items()}
    for package, names in native.C_MODULES.items():
        for name in names:
            assert list((directory / "stockade" / package).glob(f"{name}.*.so")), name

    compiled = _probe(directory)
    for module_file in compiled[-2:]:
        assert module_file.startswith(str(directory))
        assert module_file.endswith(".so")
    interpreted = _probe(directory, switch="0")
    assert interpreted[-2].endswith("evaluation.py")
    assert interpreted[-1].endswith("parser.py")
    assert compiled[:-2] == ["[1]", "[2]", "[]"]
    assert interpreted[:-2] == compiled[:-2]

    assert native.build(directory)  # the same sources: the build is kept
    assert manifest == json.loads((directory / native.MANIFEST).read_text())


def test_failed_c_module_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "stockade" / "http"
    folder.mkdir(parents=True)
    source = Path(native.__file__).parent / "http" / "_heads.c"
    (folder / "_heads.c").write_bytes(source.read_bytes())
    (folder / "_broken.c").write_text("this is not C\n")
    monkeypatch.setattr(native, "C_MODULES", {"http": ("_broken", "_heads")})
    assert native._compile_c_modules(tmp_path) == {"http": ["_heads"]}
    assert "compiling _broken.c failed" in caplog.text
    assert list(folder.glob("_heads.*.so"))
