"""Types of the C module built from _heads.c (see stockade.native)."""

def scan_head(
    head: bytes, max_field_count: int, /
) -> tuple[bytes, list[tuple[bytes, bytes]], list[bytes], dict[bytes, list[bytes]]] | None: ...
def scan_request_head(
    head: bytes, max_field_count: int, max_target_bytes: int, /
) -> (
    tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]], list[bytes], dict[bytes, list[bytes]]]
    | None
): ...
def kept_items(
    items: list[tuple[bytes, bytes]], lowered_names: list[bytes], drop: frozenset[bytes], /
) -> list[tuple[bytes, bytes]] | None: ...
def request_head(
    method: bytes, target: bytes, items: list[tuple[bytes, bytes]], /
) -> bytes | None: ...
def response_head(
    status_code: bytes, reason: bytes, items: list[tuple[bytes, bytes]], /
) -> bytes | None: ...
