from __future__ import annotations

import datetime as dt

from stockade.auth.hashing import hash_api_key, new_api_key
from stockade.events.model import Action
from stockade.gateway.routing import RouteTable
from tests.auth.support import Gate, field, gateway_config, security_registry

KEY = new_api_key()
OTHER_KEY = new_api_key()
REVOKED_KEY = new_api_key()
EXPIRED_KEY = new_api_key()
PAST = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()

CONSUMERS = [
    {
        "id": "mobile",
        "groups": ["apps"],
        "api_keys": [
            {"id": "k1", "hash": hash_api_key(KEY), "expires": FUTURE},
            {"id": "k2", "hash": hash_api_key(OTHER_KEY)},
            {"id": "old", "hash": hash_api_key(REVOKED_KEY), "revoked": True},
            {"id": "k0", "hash": hash_api_key(EXPIRED_KEY), "expires": PAST},
        ],
    },
]


def gate(**api_key: object) -> Gate:
    policy = {"auth": {"api_key": api_key or {"header": "X-API-Key"}}}
    return Gate(gateway_config(policy, consumers=CONSUMERS))


async def test_valid_key_sets_consumer() -> None:
    verdict, exchange = await gate().request(headers=[("X-API-Key", KEY)])
    assert not verdict.reject
    assert exchange.consumer is not None
    assert exchange.consumer.id == "mobile"
    assert exchange.consumer.groups == frozenset({"apps"})
    assert exchange.consumer.credential == "api-key:k1"


async def test_second_key_of_consumer_works() -> None:
    verdict, exchange = await gate().request(headers=[("x-api-key", OTHER_KEY)])
    assert not verdict.reject
    assert exchange.consumer is not None and exchange.consumer.credential == "api-key:k2"


async def test_key_field_hidden_from_upstream() -> None:
    _, exchange = await gate().request(headers=[("X-API-Key", KEY)])
    assert exchange.request.fields.get(b"x-api-key") is None


async def test_unknown_key_rejected_with_challenge() -> None:
    verdict, exchange = await gate().request(headers=[("X-API-Key", new_api_key())])
    assert verdict.status == 401
    assert verdict.reason == "api-key-unknown"
    assert field(verdict, "WWW-Authenticate") == ['ApiKey realm="stockade"']
    assert verdict.message == "authentication required"
    assert exchange.events[0].kind == "api-key-unknown"
    assert exchange.events[0].action is Action.BLOCKED


async def test_revoked_and_expired_keys_rejected() -> None:
    revoked, exchange = await gate().request(headers=[("X-API-Key", REVOKED_KEY)])
    assert revoked.status == 401
    assert revoked.reason == "api-key-revoked"
    assert exchange.events[0].evidence == {"consumer": "mobile", "key_id": "old"}
    expired, _ = await gate().request(headers=[("X-API-Key", EXPIRED_KEY)])
    assert expired.status == 401
    assert expired.reason == "api-key-expired"


async def test_missing_key_rejected() -> None:
    verdict, _ = await gate().request()
    assert verdict.status == 401
    assert verdict.reason == "credentials-missing"


async def test_secret_never_in_event() -> None:
    _, exchange = await gate().request(headers=[("X-API-Key", REVOKED_KEY)])
    text = repr(exchange.events[0].to_dict())
    assert REVOKED_KEY not in text
    assert hash_api_key(REVOKED_KEY).partition(":")[2] not in text


async def test_repeated_key_field_rejected() -> None:
    verdict, _ = await gate().request(headers=[("X-API-Key", KEY), ("X-API-Key", KEY)])
    assert verdict.status == 401
    assert verdict.reason == "api-key-ambiguous"


async def test_query_parameter_key_removed_from_target() -> None:
    g = gate(header=None, query_parameter="api_key")
    verdict, exchange = await g.request(f"/items?a=1&api_key={KEY}&b=2")
    assert not verdict.reject
    assert exchange.request.target == b"/items?a=1&b=2"
    assert exchange.consumer is not None and exchange.consumer.id == "mobile"


async def test_query_parameter_percent_encoded() -> None:
    g = gate(header=None, query_parameter="api_key")
    encoded = KEY.replace("_", "%5F").replace("-", "%2D")
    verdict, _ = await g.request(f"/?api_key={encoded}")
    assert not verdict.reject


async def test_detect_mode_forwards_without_consumer() -> None:
    policy = {"modes": {"auth": "detect"}, "auth": {"api_key": {"header": "X-API-Key"}}}
    g = Gate(gateway_config(policy, consumers=CONSUMERS))
    verdict, exchange = await g.request(headers=[("X-API-Key", "wrong")])
    assert not verdict.reject
    assert exchange.consumer is None
    assert exchange.events[0].action is Action.DETECTED


async def test_optional_auth_passes_anonymous() -> None:
    g = Gate(gateway_config({"auth": {"required": False, "api_key": {}}}, consumers=CONSUMERS))
    verdict, exchange = await g.request()
    assert not verdict.reject
    assert exchange.consumer is None


async def test_reload_picks_up_new_keys() -> None:
    first = gate()
    new_key = new_api_key()
    consumers = [{"id": "mobile", "api_keys": [{"id": "k9", "hash": hash_api_key(new_key)}]}]
    reloaded = Gate(gateway_config({"auth": {"api_key": {}}}, consumers=consumers))
    reloaded.resources = first.resources  # a worker keeps its resources across reloads
    reloaded.table = RouteTable(reloaded.config, security_registry(), first.resources)
    assert not (await reloaded.request(headers=[("X-API-Key", new_key)]))[0].reject
    assert (await reloaded.request(headers=[("X-API-Key", KEY)]))[0].status == 401
    assert not (await first.request(headers=[("X-API-Key", KEY)]))[0].reject


async def test_upstream_told_consumer_and_spoof_removed() -> None:
    policy = {"auth": {"api_key": {}, "groups_header": "X-Consumer-Groups"}}
    g = Gate(gateway_config(policy, consumers=CONSUMERS))
    spoofed = [("X-Consumer-Id", "admin"), ("X-Consumer-Groups", "root")]
    _, exchange = await g.request(headers=[("X-API-Key", KEY), *spoofed])
    assert exchange.request.fields.get_all(b"x-consumer-id") == [b"mobile"]
    assert exchange.request.fields.get_all(b"x-consumer-groups") == [b"apps"]
    verdict, rejected = await g.request(headers=[("X-API-Key", "wrong"), *spoofed])
    assert verdict.status == 401
    assert rejected.request.fields.get(b"x-consumer-id") is None
    assert rejected.request.fields.get(b"x-consumer-groups") is None
