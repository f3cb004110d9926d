"""Template precision and recall on generated traffic with a known ground truth."""

from __future__ import annotations

from stockade.protection.discovery.analysis import Observation, analyze
from stockade.protection.discovery.inventory import ServiceInventory
from tests.protection.discovery.traffic import GROUND_TRUTH, generate, normalize

REQUESTS = 4000


def learn_all(requests: list[tuple[str, str, str]]) -> ServiceInventory:
    inventory = ServiceInventory("acme", "shop")
    for index, (method, path, _) in enumerate(requests):
        observation = Observation("acme", "shop", method, path, 200, 1_700_000_000.0 + index)
        request_path, unit = analyze(observation)
        inventory.learn(request_path, unit)
    return inventory


def score(inventory: ServiceInventory) -> tuple[float, float, set[str], set[str]]:
    truth = {f"{endpoint.method} {normalize(endpoint.template)}" for endpoint in GROUND_TRUTH}
    learned = {f"{method} {normalize(template)}" for method, template in inventory.endpoints}
    hits = truth & learned
    return len(hits) / len(learned), len(hits) / len(truth), learned - truth, truth - learned


def test_ground_truth_has_forty_endpoints() -> None:
    assert len(GROUND_TRUTH) >= 40
    assert len({(endpoint.method, endpoint.template) for endpoint in GROUND_TRUTH}) == len(
        GROUND_TRUTH
    )


def test_template_precision_and_recall() -> None:
    requests = generate(REQUESTS)
    inventory = learn_all(requests)
    precision, recall, extra, missing = score(inventory)
    assert extra == set(), f"learned templates not in the ground truth: {sorted(extra)}"
    assert missing == set(), f"ground truth templates not learned: {sorted(missing)}"
    assert precision == 1.0
    assert recall == 1.0


def test_parameter_names_from_parent_segment() -> None:
    inventory = learn_all(generate(REQUESTS))
    learned = {(method, template) for method, template in inventory.endpoints}
    expected = {(endpoint.method, endpoint.template) for endpoint in GROUND_TRUTH}
    assert learned == expected


def test_no_hit_lost_across_revisions() -> None:
    requests = generate(REQUESTS, seed=11)
    inventory = learn_all(requests)
    assert inventory.hits == REQUESTS
    per_template: dict[tuple[str, str], int] = {}
    for method, _, template in requests:
        per_template[(method, template)] = per_template.get((method, template), 0) + 1
    for key, count in per_template.items():
        assert inventory.endpoints[key].hits == count, key


def test_other_seeds_and_orders() -> None:
    for seed in (1, 2, 3):
        precision, recall, extra, missing = score(learn_all(generate(REQUESTS, seed=seed)))
        assert (precision, recall) == (1.0, 1.0), (seed, sorted(extra), sorted(missing))
