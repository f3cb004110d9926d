"""Generated traffic for an API whose endpoints are known: the templating ground truth.

Every endpoint is a method, a template as discovery should name it, and a
kind of value for each parameter. ``generate`` makes concrete requests from
them, mixed in a seeded random order, so tests can measure how many templates
discovery recovers.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass

ValueMaker = Callable[[random.Random], str]


def integer(rng: random.Random) -> str:
    return str(rng.randint(1, 999_999))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def object_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def hex_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(12)) + str(rng.randint(0, 9))


def date(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def email(rng: random.Random) -> str:
    name = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
    return f"{name}{rng.randint(1, 99)}@example.{rng.choice(['com', 'org', 'net'])}"


def prefixed_token(rng: random.Random) -> str:
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(14))
    return "ord_" + body + str(rng.randint(0, 9))


def sku(rng: random.Random) -> str:
    return f"SKU-{rng.randint(100, 999)}-{rng.choice(string.ascii_uppercase)}{rng.randint(10, 99)}"


USERNAMES = (
    "alice",
    "bob",
    "carol",
    "dmitri",
    "erin",
    "farah",
    "gunnar",
    "heidi",
    "ivo",
    "jun",
    "kasia",
    "lior",
    "mateo",
    "nadia",
    "oskar",
    "priya",
    "quentin",
    "rosa",
    "sven",
    "tomas",
)


def username(rng: random.Random) -> str:
    return rng.choice(USERNAMES)


SLUG_WORDS = (
    "quick",
    "guide",
    "release",
    "notes",
    "security",
    "update",
    "pricing",
    "change",
    "roadmap",
    "winter",
    "summer",
    "launch",
    "webinar",
    "recap",
    "migration",
    "tips",
)


def slug(rng: random.Random) -> str:
    return "-".join(rng.sample(SLUG_WORDS, 3))


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str
    values: tuple[ValueMaker, ...] = ()  # one maker per {parameter}, in order
    weight: int = 1  # relative share of the traffic

    def concrete(self, rng: random.Random) -> str:
        parts: list[str] = []
        makers = iter(self.values)
        for segment in self.template.split("/")[1:]:
            parts.append(next(makers)(rng) if segment.startswith("{") else segment)
        return "/" + "/".join(parts)


GROUND_TRUTH = (
    # users: numeric ids, constant siblings, nested collections
    Endpoint("GET", "/api/v1/users"),
    Endpoint("POST", "/api/v1/users"),
    Endpoint("GET", "/api/v1/users/me", weight=3),
    Endpoint("PATCH", "/api/v1/users/me"),
    Endpoint("GET", "/api/v1/users/search"),
    Endpoint("GET", "/api/v1/users/{userId}", (integer,), weight=3),
    Endpoint("PUT", "/api/v1/users/{userId}", (integer,)),
    Endpoint("DELETE", "/api/v1/users/{userId}", (integer,)),
    Endpoint("GET", "/api/v1/users/{userId}/orders", (integer,), weight=2),
    Endpoint("GET", "/api/v1/users/{userId}/orders/{orderId}", (integer, integer), weight=2),
    Endpoint("GET", "/api/v1/users/{userId}/orders/{orderId}/items", (integer, integer)),
    Endpoint("GET", "/api/v1/users/{userId}/addresses/{addressId}", (integer, uuid4)),
    Endpoint("GET", "/api/v1/users/{userId}/avatar", (integer,)),
    # a second version with UUID ids
    Endpoint("GET", "/api/v2/users/{userId}", (uuid4,), weight=2),
    Endpoint("GET", "/api/v2/users/me"),
    Endpoint("GET", "/api/v2/users/{userId}/sessions", (uuid4,)),
    Endpoint("DELETE", "/api/v2/users/{userId}/sessions/{sessionId}", (uuid4, hex_id)),
    # orders: prefixed tokens next to literal actions
    Endpoint("GET", "/api/v1/orders"),
    Endpoint("POST", "/api/v1/orders"),
    Endpoint("GET", "/api/v1/orders/export"),
    Endpoint("GET", "/api/v1/orders/{orderId}", (prefixed_token,), weight=2),
    Endpoint("POST", "/api/v1/orders/{orderId}/cancel", (prefixed_token,)),
    Endpoint("POST", "/api/v1/orders/{orderId}/refunds", (prefixed_token,)),
    Endpoint("GET", "/api/v1/orders/{orderId}/refunds/{refundId}", (prefixed_token, integer)),
    # products: ObjectIds, SKUs and a featured list
    Endpoint("GET", "/api/v1/products"),
    Endpoint("GET", "/api/v1/products/featured"),
    Endpoint("GET", "/api/v1/products/{productId}", (object_id,), weight=2),
    Endpoint("GET", "/api/v1/products/{productId}/reviews", (object_id,)),
    Endpoint("POST", "/api/v1/products/{productId}/reviews", (object_id,)),
    Endpoint("GET", "/api/v1/products/{productId}/variants/{variantId}", (object_id, sku)),
    Endpoint("GET", "/api/v1/categories/{categoryId}/products", (integer,)),
    # dates
    Endpoint("GET", "/api/v1/reports/daily/{dailyDate}", (date,)),
    Endpoint("GET", "/api/v1/reports/{reportId}", (hex_id,)),
    Endpoint("GET", "/api/v1/stats/{statDate}/summary", (date,)),
    # emails, usernames and slugs: ids with no numeric shape
    Endpoint("GET", "/api/v1/invitations/{invitationEmail}", (email,)),
    Endpoint("GET", "/api/v1/profiles/{profileId}", (username,), weight=2),
    Endpoint("GET", "/api/v1/profiles/{profileId}/followers", (username,)),
    Endpoint("GET", "/blog/posts/{postId}", (slug,), weight=2),
    Endpoint("GET", "/blog/posts/latest"),
    # auth and operations endpoints with no parameters
    Endpoint("POST", "/auth/login"),
    Endpoint("POST", "/auth/logout"),
    Endpoint("POST", "/auth/token/refresh"),
    Endpoint("GET", "/health"),
    Endpoint("GET", "/api/v1/webhooks"),
    Endpoint("DELETE", "/api/v1/webhooks/{webhookId}", (uuid4,)),
    Endpoint("GET", "/api/v1/files/{fileId}/download", (hex_id,)),
)


def generate(count: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """Return ``count`` (method, concrete path, true template) tuples in a random order."""
    rng = random.Random(seed)
    weights = [endpoint.weight for endpoint in GROUND_TRUTH]
    requests = [
        (endpoint.method, endpoint.concrete(rng), endpoint.template) for endpoint in GROUND_TRUTH
    ]  # every endpoint at least once
    for endpoint in rng.choices(GROUND_TRUTH, weights, k=count - len(requests)):
        requests.append((endpoint.method, endpoint.concrete(rng), endpoint.template))
    rng.shuffle(requests)
    return requests


def normalize(template: str) -> str:
    """Replace parameter names by {} so that templates compare by structure."""
    return "/".join("{}" if part.startswith("{") else part for part in template.split("/"))
