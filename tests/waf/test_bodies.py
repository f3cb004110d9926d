"""Body processors: URL-encoded, JSON, multipart and XML."""

from __future__ import annotations

from stockade.waf.transaction import Transaction
from tests.waf.engine_helpers import engine_from, post, run

ENGINE = engine_from("""
SecRequestBodyJsonDepthLimit 5
SecArgumentsLimit 10
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" \\
    "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/xml" \\
    "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
""")


def _args(transaction: Transaction) -> list[tuple[str, bytes]]:
    return list(transaction.collections["ARGS"])


def _scalar(transaction: Transaction, name: str) -> bytes:
    return transaction.scalars.get(name, b"")


def test_urlencoded_decodes_and_keeps_duplicates() -> None:
    transaction = run(ENGINE, post(b"a=1+2&a=%3Cb%3E&c", b"application/x-www-form-urlencoded"))
    assert _args(transaction) == [("a", b"1 2"), ("a", b"<b>"), ("c", b"")]
    assert _scalar(transaction, "REQBODY_PROCESSOR") == b"URLENCODED"
    assert _scalar(transaction, "REQUEST_BODY") == b"a=1+2&a=%3Cb%3E&c"


def test_json_names_follow_modsecurity_v3() -> None:
    body = b'{"a": {"b": 1.50}, "c": [true, null, {"d": "x"}], "e": "s"}'
    transaction = run(ENGINE, post(body, b"application/json"))
    assert _args(transaction) == [
        ("json.a.b", b"1.50"), ("json.c.array_0", b"true"), ("json.c.array_1", b""),
        ("json.c.array_2.d", b"x"), ("json.e", b"s")]
    assert _scalar(transaction, "REQBODY_ERROR") == b"0"


def test_json_duplicate_keys_all_inspected() -> None:
    transaction = run(ENGINE, post(b'{"q": "safe", "q": "evil"}', b"application/json"))
    assert _args(transaction) == [("json.q", b"safe"), ("json.q", b"evil")]


def test_json_too_deep_is_body_error() -> None:
    transaction = run(ENGINE, post(b'{"a":' * 6 + b"1" + b"}" * 6, b"application/json"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"1"
    assert b"SecRequestBodyJsonDepthLimit" in _scalar(transaction, "REQBODY_ERROR_MSG")
    assert _args(transaction) == []


def test_json_depth_ignores_brackets_in_strings() -> None:
    transaction = run(ENGINE, post(b'{"a": "[[[[[[[[[["}', b"application/json"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"0"


def test_invalid_json_is_body_error() -> None:
    transaction = run(ENGINE, post(b'{"a": ', b"application/json"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"1"


def test_arguments_limit_is_body_error() -> None:
    body = b"&".join(b"k%d=v" % index for index in range(11))
    transaction = run(ENGINE, post(body, b"application/x-www-form-urlencoded"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"1"
    assert len(_args(transaction)) == 10


def _multipart(parts: list[bytes], boundary: bytes = b"XyZ", end: bool = True) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + (b"--" + boundary + b"--\r\n" if end else b"")


def test_multipart_fields_and_files() -> None:
    body = _multipart([
        b'Content-Disposition: form-data; name="name"\r\n\r\nbob',
        b'Content-Disposition: form-data; name="up"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello",
    ])
    transaction = run(ENGINE, post(body, b"multipart/form-data; boundary=XyZ"))
    assert _args(transaction) == [("name", b"bob")]
    assert list(transaction.collections["FILES"]) == [("up", b"a.txt")]
    assert list(transaction.collections["FILES_SIZES"]) == [("up", b"5")]
    assert _scalar(transaction, "FILES_COMBINED_SIZE") == b"5"
    assert _scalar(transaction, "MULTIPART_STRICT_ERROR") == b"0"
    headers = transaction.collections["MULTIPART_PART_HEADERS"].get("up")
    assert b"Content-Type: text/plain" in headers


def test_multipart_filename_star_is_decoded() -> None:
    body = _multipart([b"Content-Disposition: form-data; name=\"f\"; "
                       b"filename*=UTF-8''shell%2Ephp\r\n\r\nx"])
    transaction = run(ENGINE, post(body, b"multipart/form-data; boundary=XyZ"))
    assert list(transaction.collections["FILES"]) == [("f", b"shell.php")]


def test_multipart_duplicate_parameter_is_error() -> None:
    body = _multipart([b'Content-Disposition: form-data; name="a"; name="b"\r\n\r\nx'])
    transaction = run(ENGINE, post(body, b"multipart/form-data; boundary=XyZ"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"1"
    assert _scalar(transaction, "MULTIPART_STRICT_ERROR") == b"1"


def test_multipart_truncated_body_is_error() -> None:
    body = _multipart([b'Content-Disposition: form-data; name="a"\r\n\r\nx'], end=False)
    transaction = run(ENGINE, post(body, b"multipart/form-data; boundary=XyZ"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"1"
    assert b"truncated" in _scalar(transaction, "REQBODY_ERROR_MSG")


def test_multipart_flags_quoted_boundary_and_data_before() -> None:
    body = b"junk\r\n" + _multipart([b'Content-Disposition: form-data; name="a"\r\n\r\nx'])
    transaction = run(ENGINE, post(body, b'multipart/form-data; boundary="XyZ"'))
    assert _scalar(transaction, "MULTIPART_BOUNDARY_QUOTED") == b"1"
    assert _scalar(transaction, "MULTIPART_DATA_BEFORE") == b"1"
    assert _scalar(transaction, "MULTIPART_STRICT_ERROR") == b"1"


def test_multipart_lookalike_boundary_flagged() -> None:
    body = _multipart([b'Content-Disposition: form-data; name="a"\r\n\r\nx\r\n--XyZjunk'])
    transaction = run(ENGINE, post(body, b"multipart/form-data; boundary=XyZ"))
    assert _scalar(transaction, "MULTIPART_UNMATCHED_BOUNDARY") == b"1"


def test_xml_text_and_attributes() -> None:
    transaction = run(ENGINE, post(b'<a x="1"><b y="2">hi</b> there</a>', b"application/xml"))
    assert transaction.xml_text == b"hi there"
    assert transaction.xml_attributes == [b"1", b"2"]


def test_xml_doctype_rejected_without_expansion() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<a>&e;</a>")
    transaction = run(ENGINE, post(body, b"application/xml"))
    assert _scalar(transaction, "REQBODY_ERROR") == b"1"
    assert transaction.xml_text is None
