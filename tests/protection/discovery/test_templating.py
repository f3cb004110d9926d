from __future__ import annotations

import pytest

from stockade.protection.discovery.templating import (
    MAX_LITERAL_SIBLINGS,
    MAX_SEGMENTS,
    MAX_WORD_SIBLINGS,
    PathTooDeep,
    PathTree,
    split_template,
)


def learn(tree: PathTree, path: str) -> str:
    return tree.learn(split_template(path))


def test_identifier_shapes_become_parameters() -> None:
    tree = PathTree()
    assert learn(tree, "/users/8812/orders/5") == "/users/{userId}/orders/{orderId}"
    assert learn(tree, "/files/550e8400-e29b-41d4-a716-446655440000") == "/files/{fileId}"
    assert learn(tree, "/reports/2024-01-31") == "/reports/{reportDate}"
    assert learn(tree, "/invites/jane@example.com") == "/invites/{inviteEmail}"
    assert learn(tree, "/categories/3/items") == "/categories/{categoryId}/items"


def test_constant_siblings_stay_literal() -> None:
    tree = PathTree()
    for index in range(50):
        learn(tree, f"/users/{index}")
    assert learn(tree, "/users/me") == "/users/me"
    assert learn(tree, "/users/search") == "/users/search"
    assert learn(tree, "/users/77") == "/users/{userId}"


def test_versions_stay_literal() -> None:
    tree = PathTree()
    for version in ("v1", "v2", "v3"):
        assert learn(tree, f"/api/{version}/items/1") == f"/api/{version}/items/{{itemId}}"


def test_word_cardinality_folds_into_parameter() -> None:
    tree = PathTree()
    names = [f"user{chr(97 + index)}name" for index in range(MAX_WORD_SIBLINGS + 1)]
    templates = [learn(tree, f"/profiles/{name}") for name in names]
    assert templates[0] == "/profiles/useraname"  # literal until the limit
    assert templates[-1] == "/profiles/{profileId}"
    assert tree.resolve(["profiles", names[0]]) == "/profiles/{profileId}"
    assert learn(tree, "/profiles/someone") == "/profiles/{profileId}"


def test_full_fold_keeps_busy_dictionary_words() -> None:
    tree = PathTree()
    for _ in range(40):
        learn(tree, "/posts/latest")
    words = ["release", "notes", "guide", "update", "pricing", "security", "change"]
    slugs = [f"{first}-{second}" for first in words for second in words if first != second]
    for slug in slugs[: MAX_LITERAL_SIBLINGS + 2]:
        learn(tree, f"/posts/{slug}")
    assert learn(tree, "/posts/latest") == "/posts/latest"
    assert learn(tree, f"/posts/{slugs[0]}") == "/posts/{postId}"


def test_fold_merges_subtrees_and_counts() -> None:
    tree = PathTree()
    names = [f"member{chr(97 + index)}x" for index in range(MAX_WORD_SIBLINGS + 1)]
    for name in names:
        learn(tree, f"/teams/{name}/members")
    param = tree.root.literals["teams"].param
    assert param is not None
    assert param.hits == len(names)
    assert param.literals["members"].hits == len(names)
    assert tree.root.literals["teams"].hits == len(names)


def test_persistence_round_trip() -> None:
    tree = PathTree()
    for index in range(20):
        learn(tree, f"/a/{index}/b")
    learn(tree, "/a/me")
    copy = PathTree.from_dict(tree.to_dict())
    assert copy.to_dict() == tree.to_dict()
    assert learn(copy, "/a/99/b") == "/a/{aId}/b"


def test_merge_of_trees_reapplies_limits() -> None:
    first, second = PathTree(), PathTree()
    for index in range(5):
        learn(first, f"/people/name{chr(97 + index)}q")
        learn(second, f"/people/name{chr(107 + index)}q")
    assert first.resolve(["people", "nameaq"]) == "/people/nameaq"
    first.merge(second)
    assert first.resolve(["people", "nameaq"]) == "/people/{personId}"
    assert first.root.hits == 10


def test_too_deep_paths_rejected() -> None:
    with pytest.raises(PathTooDeep):
        PathTree().learn(["x"] * (MAX_SEGMENTS + 1))


def test_root_and_trailing_slash() -> None:
    tree = PathTree()
    assert learn(tree, "/") == "/"
    assert learn(tree, "/users/") == "/users/"


def test_names_unique_within_template() -> None:
    tree = PathTree()
    assert learn(tree, "/users/5/6") == "/users/{userId}/{userId2}"


def test_odd_words_join_busy_parameter() -> None:
    tree = PathTree()
    for index in range(MAX_WORD_SIBLINGS + 1):
        learn(tree, f"/orders/{1000 + index}")
    assert learn(tree, "/orders/legacyorderx") == "/orders/{orderId}"
    assert learn(tree, "/orders/export") == "/orders/export"
