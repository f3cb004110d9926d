"""The waf section of a Policy and the CRS settings it produces."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stockade.config.models import Policy, merge_policy
from stockade.waf.config import WafPolicy
from stockade.waf.crs import find_crs, tenant_removals, tenant_settings


def test_api_defaults_allow_rest_methods_and_json() -> None:
    text = tenant_settings(WafPolicy(), 4)
    assert "tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE" in text
    assert "|application/json|" in text
    assert "|application/merge-patch+json|" in text
    assert "tx.blocking_paranoia_level=1" in text


def test_crs3_variable_names() -> None:
    text = tenant_settings(WafPolicy(paranoia_level=2, detection_paranoia_level=3), 3)
    assert "tx.paranoia_level=2" in text
    assert "tx.executing_paranoia_level=3" in text


def test_without_api_defaults_keeps_crs_lists() -> None:
    text = tenant_settings(WafPolicy(api_defaults=False), 4)
    assert "allowed_methods" not in text
    assert "allowed_request_content_type" not in text


def test_exclusions_become_removals() -> None:
    policy = WafPolicy.model_validate({"exclusions": {
        "remove_by_id": ["920350", "942100-942199"], "remove_by_tag": ["attack-php"],
        "remove_targets": [{"rule_id": "941100", "target": "ARGS:html"}]}})
    removals = tenant_removals(policy)
    assert removals.id_ranges == [(920350, 920350), (942100, 942199)]
    assert removals.tags == {"attack-php"}
    assert removals.targets_by_id[0][1].label() == "ARGS:html"


@pytest.mark.parametrize("waf", [
    {"paranoia_level": 5},
    {"exclusions": {"remove_by_id": ["94x100"]}},
    {"exclusions": {"remove_targets": [{"rule_id": "1", "target": "AR GS"}]}},
    {"allowed_methods": ["get"]},
    {"allowed_content_types": ["json"]},
    {"unknown_key": 1},
])
def test_invalid_waf_settings_rejected(waf: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate({"waf": waf})


def test_waf_section_merges_key_by_key() -> None:
    tenant = Policy.model_validate({"waf": {"paranoia_level": 2}})
    route = Policy.model_validate({"waf": {"inbound_anomaly_threshold": 10}})
    merged = merge_policy(tenant, route)
    assert merged.waf is not None
    assert merged.waf.paranoia_level == 2
    assert merged.waf.inbound_anomaly_threshold == 10


def test_missing_crs_path_names_the_fix(tmp_path: object) -> None:
    with pytest.raises(FileNotFoundError, match="point it at the CRS directory"):
        find_crs(str(tmp_path))
