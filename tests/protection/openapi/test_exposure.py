from __future__ import annotations

import jsonschema_rs

from stockade.protection.openapi.exposure import MAX_FINDINGS, find_exposures, strip

USER_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        "additionalProperties": False,
    },
}


def test_every_exposure_found_past_event_cap() -> None:
    validator = jsonschema_rs.validator_for(USER_LIST)
    users = [
        {"id": index, "name": f"user{index}", "password_hash": "x", "ssn": "078-05-1120"}
        for index in range(MAX_FINDINGS)
    ]
    exposures = find_exposures(validator, users, frozenset())
    assert len(exposures) == 2 * MAX_FINDINGS


def test_strip_removes_all_exposed_properties() -> None:
    validator = jsonschema_rs.validator_for(USER_LIST)
    users = [{"id": index, "name": f"user{index}", "password_hash": "x"} for index in range(120)]
    stripped = strip(users, find_exposures(validator, users, frozenset()))
    assert all(set(user) == {"id", "name"} for user in stripped)
