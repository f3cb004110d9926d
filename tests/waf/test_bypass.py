"""Classic WAF bypass attempts against the real CRS with Stockade's API defaults.

Each request is run in-process through a tenant engine at paranoia level 1
in blocking form; an attack must end in an interruption.
"""

from __future__ import annotations

import pytest

from stockade.waf.config import WafPolicy
from stockade.waf.crs import CrsInstall, tenant_engine
from stockade.waf.engine import Engine
from stockade.waf.request import WafRequest
from stockade.waf.ruleset import RuleSet
from stockade.waf.transaction import Transaction

pytestmark = pytest.mark.crs


@pytest.fixture(scope="module")
def engine(crs_v4: tuple[CrsInstall, RuleSet]) -> Engine:
    install, ruleset = crs_v4
    return tenant_engine(ruleset, install, WafPolicy())


def _request(method: bytes, target: bytes, body: bytes = b"",
             headers: list[tuple[bytes, bytes]] | None = None) -> WafRequest:
    fields = [(b"Host", b"api.example.test"), (b"User-Agent", b"curl/8.5.0"),
              (b"Accept", b"application/json"), *(headers or [])]
    if body:
        fields.append((b"Content-Length", str(len(body)).encode()))
    return WafRequest(method, target, headers=fields, body=body, client_address="127.0.0.9")


def _run(engine: Engine, request: WafRequest) -> Transaction:
    transaction = engine.transaction(request)
    if transaction.process_request_headers() is None:
        transaction.process_request_body()
    return transaction


def _blocked(engine: Engine, request: WafRequest) -> Transaction:
    transaction = _run(engine, request)
    ids = [match.rule_id for match in transaction.matches]
    assert transaction.interruption is not None, f"not blocked; matched {ids}"
    return transaction


JSON = [(b"Content-Type", b"application/json")]


def test_plain_api_requests_pass(engine: Engine) -> None:
    for method in (b"GET", b"PUT", b"PATCH", b"DELETE"):
        body = b'{"name": "Ana", "tags": ["a", "b"]}' if method in (b"PUT", b"PATCH") else b""
        headers = JSON if body else []
        transaction = _run(engine, _request(method, b"/v1/users/42", body, headers))
        ids = [match.rule_id for match in transaction.matches]
        assert transaction.interruption is None, f"{method!r} blocked by {ids}"


def test_encoded_question_mark_in_path(engine: Engine) -> None:
    _blocked(engine, _request(b"GET", b"/download%3Ffile=../../../../etc/passwd"))


def test_path_starting_with_double_slash(engine: Engine) -> None:
    _blocked(engine, _request(b"GET", b"//?q=<script>alert(1)</script>"))


def test_path_parameter_after_semicolon(engine: Engine) -> None:
    _blocked(engine, _request(b"GET", b"/files;v=../../../../etc/passwd"))


def test_multipart_with_lf_only_lines(engine: Engine) -> None:
    body = (b"--B\nContent-Disposition: form-data; name=\"q\"\n\n"
            b"1' UNION SELECT password FROM users--\n--B--\n")
    headers = [(b"Content-Type", b"multipart/form-data; boundary=B")]
    _blocked(engine, _request(b"POST", b"/search", body, headers))


def test_multipart_duplicate_name_parameter(engine: Engine) -> None:
    body = (b"--B\r\nContent-Disposition: form-data; name=\"safe\"; name=\"q\"\r\n\r\n"
            b"<script>alert(1)</script>\r\n--B--\r\n")
    headers = [(b"Content-Type", b"multipart/form-data; boundary=B")]
    transaction = _blocked(engine, _request(b"POST", b"/search", body, headers))
    assert transaction.interruption is not None
    assert transaction.interruption.status == 400


def test_charset_utf7_rejected(engine: Engine) -> None:
    headers = [(b"Content-Type", b"application/x-www-form-urlencoded; charset=utf-7")]
    _blocked(engine, _request(b"POST", b"/search", b"q=+ADw-script+AD4-", headers))


def test_json_key_collision(engine: Engine) -> None:
    body = b'{"q": "shoes", "q": "1\' UNION SELECT password FROM users--"}'
    _blocked(engine, _request(b"POST", b"/search", body, JSON))


def test_json_deep_nesting_rejected(engine: Engine) -> None:
    body = b'{"a":' * 600 + b'"x"' + b"}" * 600
    transaction = _blocked(engine, _request(b"POST", b"/search", body, JSON))
    assert transaction.interruption is not None
    assert transaction.interruption.status == 400


def test_argument_count_limit(engine: Engine) -> None:
    body = b"&".join(b"k%d=v" % index for index in range(1001)) + b"&q=<script>x</script>"
    headers = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    transaction = _blocked(engine, _request(b"POST", b"/search", body, headers))
    assert transaction.interruption is not None
    assert transaction.interruption.status == 400


def test_body_over_limit_rejected(engine: Engine) -> None:
    padding = b"a" * (13_107_200 + 1)
    body = b"pad=" + padding + b"&q=<script>alert(1)</script>"
    headers = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    transaction = _blocked(engine, _request(b"POST", b"/search", body, headers))
    assert transaction.interruption is not None
    assert transaction.interruption.status == 413


def test_truncated_body_is_logged(engine: Engine) -> None:
    request = _request(b"POST", b"/search", b"pad=aaaa",
                       [(b"Content-Type", b"application/x-www-form-urlencoded")])
    request.body_truncated = True
    transaction = _run(engine, request)
    assert 190006 in [match.rule_id for match in transaction.matches]


def test_parameter_pollution(engine: Engine) -> None:
    target = b"/items?id=1&id=1'%20UNION%20SELECT%20password%20FROM%20users--"
    _blocked(engine, _request(b"GET", target))


def test_duplicate_content_type_rejected(engine: Engine) -> None:
    headers = [(b"Content-Type", b"text/plain"),
               (b"Content-Type", b"application/x-www-form-urlencoded")]
    transaction = _blocked(engine, _request(b"POST", b"/search", b"q=hello", headers))
    assert 920620 in [match.rule_id for match in transaction.matches]
