"""Compiled builds of the hot modules of the WAF, HTTP and gateway packages, made with mypyc.

mypyc turns the type-annotated modules listed in COMPILED into C
extensions. ``bench/waf_mypyc.py`` measured the WAF's at 0.55 to 0.62 of
the interpreted CPU time per request through the CRS, and
``bench/gateway_inprocess.py`` the proxy path's at about 0.7.
``scripts/bootstrap`` runs ``python -m stockade.native build``, which
compiles a copy of the sources into a directory of its own (``.native``
in the checkout), so the source tree never contains binaries.

Each of those packages calls ``attach`` when it is imported. The compiled
modules are used only when the manifest written with them names the same
digest as the sources present now, so an edited module never runs stale
compiled code. Set STOCKADE_NATIVE=0 to run everything interpreted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import MutableSequence
from pathlib import Path

log = logging.getLogger(__name__)

COMPILED: dict[str, tuple[str, ...]] = {
    "waf": (
        "collections", "engine", "evaluation", "events", "integers", "macros", "matches", "outcome",
        "prefilter",
        "removals", "request", "request_vars", "rules", "ruleset", "screen", "stage",
        "settings_directives", "store", "transaction", "tx_setup", "urlencoding", "variables",
    ),
    "http": (
        "charsets", "chunks", "field_lines", "fields", "framing", "limits", "message_parser",
        "messages", "parser", "serialize", "target",
    ),
    "gateway": (
        "accesslog", "body_limits", "connection", "exchange", "fast_path", "forwarding",
        "log_phase", "metrics", "pipeline", "proxy", "responses", "routing", "runtime", "server",
        "upstream",
    ),
}
"""Modules compiled, by package of stockade. The rest stay interpreted: mypyc
cannot compile subclasses of built-in exceptions (gateway/errors.py holds the
gateway's), its classes cannot be
weakly referenced (which the @rx pattern cache needs), and a module whose
dataclasses name types imported only for type checking fails at import."""

C_MODULES: dict[str, tuple[str, ...]] = {"http": ("_heads",), "gateway": ("_access",)}
"""Hand-written C modules, by package of stockade: ``<name>.c`` beside the Python
modules, built with the compiler Python was built with. Like the mypyc
modules, they are used only from a matching build, and the Python code
that imports them works without them."""

DIRECTORY_VARIABLE = "STOCKADE_NATIVE_DIR"
"""Environment variable that names the directory of the compiled build."""

SWITCH_VARIABLE = "STOCKADE_NATIVE"
"""Environment variable that turns the compiled build off when set to "0"."""

MANIFEST = "manifest.json"

_PACKAGE_ROOT = Path(__file__).resolve().parent  # src/stockade


def default_directory() -> Path:
    """Return ``.native`` beside ``src`` in a checkout."""
    return _PACKAGE_ROOT.parent.parent / ".native"


def build_directory() -> Path:
    return Path(os.environ.get(DIRECTORY_VARIABLE) or default_directory())


def source_digest() -> str:
    """Return a digest of the sources, the Python version and the mypyc version.

    Every module of the compiled packages counts, not only the compiled
    ones, because compiled code is built against the types of the modules
    it imports. This module counts too, because it lists what is compiled.
    """
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    digest.update(_mypyc_version().encode())
    paths = [
        path
        for package in COMPILED
        for pattern in ("*.py", "*.c")
        for path in (_PACKAGE_ROOT / package).rglob(pattern)
    ]
    paths.append(Path(__file__).resolve())  # the list of compiled modules
    for path in sorted(paths):
        digest.update(str(path.relative_to(_PACKAGE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def attach(package_path: MutableSequence[str], package: str) -> bool:
    """Put the compiled modules of ``stockade.<package>`` first on ``package_path`` when
    they match the sources.

    Return True when they are used.
    """
    if os.environ.get(SWITCH_VARIABLE) == "0":
        return False
    directory = build_directory()
    if not build_matches(directory):
        return False
    if str(directory) not in sys.path:
        sys.path.append(str(directory))  # the library that the compiled modules share
    package_path.insert(0, str(directory / "stockade" / package))
    return True


def build_matches(directory: Path) -> bool:
    """Return True when ``directory`` contains a compiled build of the current sources."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return False  # never built, or not readable: run interpreted
    if not isinstance(manifest, dict) or manifest.get("digest") != source_digest():
        log.info("the compiled modules in %s do not match the sources; running them "
                 "interpreted until scripts/bootstrap builds them again", directory)
        return False
    return True


def build(directory: Path) -> bool:
    """Compile COMPILED into ``directory`` unless a build of the same sources is there.

    Return True when a matching build is in place afterwards. A failure is
    logged and leaves no manifest, so the modules run interpreted.
    """
    digest = source_digest()
    try:
        if json.loads((directory / MANIFEST).read_text()).get("digest") == digest:
            return True
    except (OSError, ValueError, AttributeError):
        pass
    with tempfile.TemporaryDirectory(prefix="stockade-native-") as folder:
        work = Path(folder)
        shutil.copytree(_PACKAGE_ROOT, work / "stockade",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        # mypyc type-checks the modules first, and re2 and hyperscan ship no stubs.
        (work / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
        modules = [f"stockade/{package}/{name}.py"
                   for package, names in COMPILED.items() for name in names]
        mypyc = str(Path(sys.executable).parent / "mypyc")
        # mypy adds PYTHONPATH to its search path. With PYTHONPATH naming an exported
        # copy of the sources, its type check failed on the pydantic models, and the
        # copy in ``work`` is the one to compile anyway.
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        try:
            result = subprocess.run([mypyc, *modules], cwd=work, capture_output=True,
                                    text=True, check=False, env=environment)
        except OSError as error:
            log.warning("cannot run mypyc (%s); everything runs interpreted", error)
            return False
        if result.returncode != 0:
            log.warning("mypyc failed with status %d; everything runs interpreted:\n%s",
                        result.returncode, (result.stdout + result.stderr)[-4000:])
            return False
        c_modules = _compile_c_modules(work)
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        for library in work.glob("*.so"):
            shutil.copy2(library, directory / library.name)
        for package, names in COMPILED.items():
            (directory / "stockade" / package).mkdir(parents=True)
            for name in (*names, *c_modules.get(package, ())):
                for extension in (work / "stockade" / package).glob(f"{name}.*.so"):
                    shutil.copy2(extension, directory / "stockade" / package / extension.name)
    manifest = {"digest": digest, "modules": COMPILED, "c_modules": c_modules}
    (directory / MANIFEST).write_text(json.dumps(manifest))
    return True


def _compile_c_modules(work: Path) -> dict[str, list[str]]:
    """Compile each of C_MODULES beside its source in ``work``; return those compiled.

    A module that fails to compile is logged and left out. The Python code
    that imports it then does its work, so the mypyc modules are still used.
    """
    compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    compiled: dict[str, list[str]] = {}
    for package, names in C_MODULES.items():
        for name in names:
            source = work / "stockade" / package / f"{name}.c"
            command = [*compiler, "-O2", "-Wall", "-Wextra", "-fPIC", "-shared",
                       f"-I{include}", str(source), "-o", str(source.with_name(name + suffix))]
            try:
                result = subprocess.run(command, capture_output=True, text=True, check=False)
            except OSError as error:
                log.warning("cannot run the C compiler (%s); the Python code replaces %s",
                            error, source.name)
                continue
            output = (result.stdout + result.stderr)[-4000:]
            if result.returncode != 0:
                log.warning("compiling %s failed with status %d; the Python code replaces "
                            "it:\n%s", source.name, result.returncode, output)
                continue
            if output:
                log.warning("compiler warnings for %s:\n%s", source.name, output)
            compiled.setdefault(package, []).append(name)
    return compiled


def _mypyc_version() -> str:
    try:
        from mypy.version import __version__
    except ImportError:
        return "none"
    return str(__version__)


def main(argv: list[str]) -> int:
    if argv != ["build"]:
        print("usage: python -m stockade.native build", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="native: %(message)s")
    directory = build_directory()
    try:
        built = build(directory)
    except OSError as error:
        log.warning("cannot write the compiled build to %s (%s); everything runs interpreted",
                    directory, error)
        return 0
    if built:
        print(f"native: compiled modules are in {directory}", file=sys.stderr)
    return 0  # interpreted modules still work, so a failed build does not fail the caller


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
