"""Load the OWASP Core Rule Set and turn a tenant's WafPolicy into CRS settings.

The loaded rule set is shared: every tenant using the same CRS directory
and extra files gets the same RuleSet object. A tenant's paranoia level,
thresholds, methods and content types become a small prelude of SecAction
rules, and its exclusions become per-transaction removals, so tuning
never copies the rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stockade.waf.actions.ctl import parse_id_ranges
from stockade.waf.builder import RuleSetBuilder
from stockade.waf.config import (
    API_ALLOWED_METHODS,
    API_CONTENT_TYPES,
    CRS_SEARCH_PATHS,
    WafPolicy,
)
from stockade.waf.engine import Engine
from stockade.waf.prefilter import build_prefilter
from stockade.waf.removals import Removals
from stockade.waf.rules import Rule
from stockade.waf.ruleset import RuleSet
from stockade.waf.seclang import SecLangError, load_directives, read_directives
from stockade.waf.seclang.variables import parse_variable

if TYPE_CHECKING:
    from stockade.gateway.routing import Resources

log = logging.getLogger(__name__)

ENGINE_BASE_RULES = r"""
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^(?:application/(?:soap\+)?|text/)xml" \
    "id:190001,phase:1,pass,nolog,t:none,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^application/(?:[a-z0-9.+-]+\+)?json" \
    "id:190002,phase:1,pass,nolog,t:none,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" \
    "id:190003,phase:2,deny,status:400,log,t:none,severity:CRITICAL,\
    msg:'Request body could not be parsed: %{REQBODY_ERROR_MSG}'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
    "id:190004,phase:2,deny,status:400,log,t:none,severity:CRITICAL,\
    msg:'Multipart body failed strict validation'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \
    "id:190005,phase:2,deny,status:400,log,t:none,severity:CRITICAL,\
    msg:'Multipart body contains a line that looks like a boundary but is none'"
SecRule INBOUND_DATA_ERROR "@eq 1" \
    "id:190006,phase:2,pass,log,t:none,severity:WARNING,\
    msg:'Request body exceeds the inspection limit; only its first part was inspected'"
"""
"""Engine settings every Stockade WAF starts from (ids 190001-190006).

Bodies that cannot be parsed, or multipart bodies a backend might split
differently, are rejected: an engine that cannot read a body cannot
inspect it. A body over SecRequestBodyLimit is rejected (413); a body the
gateway cut at its buffer limit (over_buffer: inspect_partial) is logged.
"""

SETUP_TEMPLATE = """
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
SecDefaultAction "phase:3,log,auditlog,pass"
SecDefaultAction "phase:4,log,auditlog,pass"
SecDefaultAction "phase:5,log,auditlog,pass"
SecAction "id:900990,phase:1,pass,nolog,t:none,setvar:tx.crs_setup_version={version}"
"""


@dataclass(frozen=True, slots=True)
class CrsInstall:
    path: Path  # the directory holding rules/
    version: str  # e.g. "4.28.0"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def rule_files(self) -> list[Path]:
        return sorted((self.path / "rules").glob("*.conf"))


def find_crs(configured: str | None) -> CrsInstall:
    """Locate the CRS: ``configured`` when set, else the usual install locations."""
    candidates = [configured] if configured else list(CRS_SEARCH_PATHS)
    for candidate in candidates:
        path = Path(candidate)
        if (path / "rules").is_dir() and list((path / "rules").glob("REQUEST-9*.conf")):
            return CrsInstall(path, crs_version(path))
    if configured:
        raise FileNotFoundError(f"waf.crs_path {configured!r} has no rules/REQUEST-9*.conf; "
                                "point it at the CRS directory that contains rules/")
    raise FileNotFoundError("no Core Rule Set found in " + ", ".join(CRS_SEARCH_PATHS)
                            + "; install it (apt install modsecurity-crs) or set waf.crs_path")


def crs_version(path: Path) -> str:
    """Read the version from SecComponentSignature "OWASP_CRS/x.y.z" in REQUEST-901."""
    marker = "OWASP_CRS/"
    setup_rules = path / "rules" / "REQUEST-901-INITIALIZATION.conf"
    if not setup_rules.is_file():
        raise FileNotFoundError(f"{setup_rules} not found; point at the CRS directory that "
                                "contains rules/REQUEST-901-INITIALIZATION.conf")
    for line in setup_rules.read_text().splitlines():
        if line.startswith("SecComponentSignature") and marker in line:
            return line.split(marker, 1)[1].strip().strip('"')
    raise SecLangError("no SecComponentSignature with the CRS version",
                       path=str(path / "rules" / "REQUEST-901-INITIALIZATION.conf"))


def load_crs(install: CrsInstall, extra_files: tuple[str, ...] = (),
             base_rules: str = ENGINE_BASE_RULES) -> RuleSet:
    """Load engine settings, the CRS setup, every rules file, then ``extra_files``."""
    builder = RuleSetBuilder()
    builder.add(read_directives(base_rules, "<engine base rules>"))
    setup_version = install.version.replace(".", "")
    builder.add(read_directives(SETUP_TEMPLATE.format(version=setup_version), "<crs setup>"))
    for path in install.rule_files():
        builder.add(load_directives(path))
    for extra in extra_files:
        builder.add(load_directives(Path(extra)))
    ruleset = builder.build()
    ruleset.use_prefilter(build_prefilter(ruleset))
    for diagnostic in ruleset.diagnostics:
        log.warning("CRS %s: %s", install.version, diagnostic)
    return ruleset


def shared_ruleset(resources: Resources, install: CrsInstall,
                   extra_files: tuple[str, ...] = ()) -> RuleSet:
    """Return the RuleSet for these files, loading it only once per ``resources``."""
    key = f"waf:ruleset:{install.path.resolve()}:{'|'.join(extra_files)}"
    ruleset: RuleSet = resources.get_or_create(key, lambda: load_crs(install, extra_files))
    return ruleset


def tenant_settings(policy: WafPolicy, major_version: int) -> str:
    """Return the SecAction that sets a tenant's CRS variables."""
    detection = policy.detection_paranoia_level or policy.paranoia_level
    methods = policy.allowed_methods or (
        list(API_ALLOWED_METHODS) if policy.api_defaults else None)
    types = policy.allowed_content_types or (
        list(API_CONTENT_TYPES) if policy.api_defaults else None)
    if major_version >= 4:
        levels = [f"tx.blocking_paranoia_level={policy.paranoia_level}",
                  f"tx.detection_paranoia_level={detection}"]
    else:
        levels = [f"tx.paranoia_level={policy.paranoia_level}",
                  f"tx.executing_paranoia_level={detection}"]
    settings = [*levels,
                f"tx.inbound_anomaly_score_threshold={policy.inbound_anomaly_threshold}",
                f"tx.outbound_anomaly_score_threshold={policy.outbound_anomaly_threshold}"]
    if methods:
        settings.append("tx.allowed_methods=" + " ".join(methods))
    if types:
        settings.append("tx.allowed_request_content_type=" + " ".join(f"|{item.lower()}|"
                                                                      for item in types))
    actions = ",".join(f"setvar:'{item}'" for item in settings)
    return f'SecAction "id:900000,phase:1,pass,nolog,t:none,{actions}"\n'


def compile_prelude(text: str) -> list[Rule]:
    """Compile a tenant's own SecLang settings (not the shared rules)."""
    builder = RuleSetBuilder()
    builder.add(read_directives(text, "<tenant settings>"))
    return builder.build().rules


def tenant_removals(policy: WafPolicy) -> Removals:
    removals = Removals()
    for item in policy.exclusions.remove_by_id:
        removals.remove_ids(parse_id_ranges(item))
    for tag in policy.exclusions.remove_by_tag:
        removals.remove_tag(tag)
    for target in policy.exclusions.remove_targets:
        removals.remove_target_by_ids(parse_id_ranges(target.rule_id),
                                      parse_variable(target.target))
    return removals


def tenant_engine(ruleset: RuleSet, install: CrsInstall, policy: WafPolicy) -> Engine:
    """Build an engine for one policy on top of a shared, already loaded rule set."""
    prelude = compile_prelude(tenant_settings(policy, install.major))
    return Engine(ruleset, prelude, tenant_removals(policy))
