from __future__ import annotations

from stockade.protection.discovery.schema import (
    ENUM_MIN_SAMPLES,
    MAX_DEPTH,
    MAX_PROPERTIES,
    MAX_SHAPE_NODES,
    Shape,
)


def infer(*documents: object) -> Shape:
    shape = Shape()
    for document in documents:
        shape.observe(document)
    return shape


def test_types_formats_required_and_nullable() -> None:
    shape = infer(
        {"id": 1, "email": "a@b.io", "created": "2024-01-01T00:00:00Z", "note": None},
        {"id": 2, "email": "c@d.io", "created": "2024-01-02T00:00:00Z", "note": "hi"},
        {"id": 3, "email": "e@f.io", "created": "2024-01-03T00:00:00Z"},
    )
    schema = shape.to_json_schema()
    assert schema["type"] == "object"
    assert schema["required"] == ["created", "email", "id"]
    properties = schema["properties"]
    assert properties["id"] == {"type": "integer"}
    assert properties["email"] == {"type": "string", "format": "email"}
    assert properties["created"]["format"] == "date-time"
    assert properties["note"]["type"] == ["string", "null"]


def test_integer_and_number_merge_to_number() -> None:
    assert infer(1, 2.5).to_json_schema() == {"type": "number"}


def test_enum_for_small_closed_sets() -> None:
    shape = infer(
        *[{"status": ["active", "suspended"][index % 2]} for index in range(ENUM_MIN_SAMPLES)]
    )
    assert shape.to_json_schema()["properties"]["status"]["enum"] == ["active", "suspended"]
    few = infer({"status": "active"})
    assert "enum" not in few.to_json_schema()["properties"]["status"]


def test_no_enum_for_free_text_or_secrets() -> None:
    names = infer(*[{"name": f"name {chr(65 + index)}"} for index in range(30)])
    assert "enum" not in names.to_json_schema()["properties"]["name"]
    secrets = infer(*[{"password": "hunter22"} for _ in range(30)])
    assert secrets.properties["password"].values is None
    emails = infer(*[{"contact": "a@b.io"} for _ in range(30)])
    assert "enum" not in emails.to_json_schema()["properties"]["contact"]


def test_arrays_of_objects() -> None:
    schema = infer({"items": [{"sku": "a", "qty": 1}, {"sku": "b"}]}).to_json_schema()
    items = schema["properties"]["items"]
    assert items["type"] == "array"
    assert items["items"]["required"] == ["sku"]


def test_merge_adds_counts() -> None:
    first = infer({"a": 1})
    second = infer({"a": 2, "b": "x"})
    first.merge(second)
    assert first.count == 2
    assert first.properties["a"].count == 2
    assert first.to_json_schema()["required"] == ["a"]
    assert Shape.from_dict(first.to_dict()).to_json_schema() == first.to_json_schema()


def test_limits_on_depth_and_width() -> None:
    deep: object = 1
    for _ in range(MAX_DEPTH + 10):
        deep = {"x": deep}
    infer(deep)  # no recursion error
    wide = infer({f"k{index}": index for index in range(MAX_PROPERTIES + 50)})
    assert len(wide.properties) == MAX_PROPERTIES


def test_property_paths() -> None:
    shape = infer({"a": {"b": 1}, "list": [{"c": 2}]})
    assert sorted(shape.property_paths()) == ["a", "a.b", "list", "list[].c"]


def test_random_member_names_bounded() -> None:
    shape = Shape()
    for index in range(50):
        shape.observe({f"k{index}": {f"m{member}": [1] for member in range(100)}})
    assert shape.size() == MAX_SHAPE_NODES
    other = Shape()
    other.observe({"k0": {f"z{member}": 1 for member in range(200)}})
    shape.merge(other)
    assert shape.size() == MAX_SHAPE_NODES
    assert shape.count == 51
