"""Fill the request-line and header variables of a transaction (phase 1)."""

from __future__ import annotations

from stockade.waf.collections import Collection
from stockade.waf.request import WafRequest
from stockade.waf.urlencoding import decode_form_value, split_form


def to_text(data: bytes) -> str:
    """Decode bytes for use as a key or in a message; lossless for any byte string."""
    return data.decode("utf-8", "surrogateescape")


def split_target(target: bytes) -> tuple[bytes, bytes, bytes]:
    """Return (uri without scheme and authority, path, query) of a request target.

    An absolute-form target (``http://host/path?q``) loses its scheme and
    authority, as REQUEST_URI does in ModSecurity; REQUEST_URI_RAW keeps them.
    """
    uri = target
    lowered = target[:8].lower()
    if lowered.startswith(b"http://") or lowered.startswith(b"https://"):
        after_scheme = target.index(b"//") + 2
        slash = target.find(b"/", after_scheme)
        uri = target[slash:] if slash >= 0 else b"/"
    path, _, query = uri.partition(b"?")
    return uri, path, query


def percent_decode(data: bytes) -> bytes:
    """Decode %XX escapes only (not '+'), as ModSecurity v3 decodes the request path."""
    if b"%" not in data:
        return data
    return decode_form_value(data.replace(b"+", b"%2B"))[0]


def request_scalars(request: WafRequest) -> dict[str, bytes]:
    uri, raw_path, query = split_target(request.target)
    path = percent_decode(raw_path)
    basename = path.rsplit(b"/", 1)[-1]
    return {
        "REQUEST_METHOD": request.method,
        "REQUEST_URI": uri,
        "REQUEST_URI_RAW": request.target,
        "REQUEST_FILENAME": path,
        "REQUEST_BASENAME": basename,
        "REQUEST_LINE": request_line(request),
        "REQUEST_PROTOCOL": request.protocol,
        "QUERY_STRING": query,
        "PATH_INFO": b"",
        "REMOTE_ADDR": request.client_address.encode(),
        "REMOTE_HOST": request.client_address.encode(),
        "REMOTE_PORT": str(request.client_port).encode(),
        "SERVER_ADDR": request.server_address.encode(),
        "SERVER_PORT": str(request.server_port).encode(),
        "SERVER_NAME": _host_name(request),
        "UNIQUE_ID": request.unique_id.encode(),
        "AUTH_TYPE": request.header_values(b"authorization")[0].partition(b" ")[0]
        if request.header_values(b"authorization") else b"",
        "URLENCODED_ERROR": b"0",
        "INBOUND_DATA_ERROR": b"0",
    }


def request_line(request: WafRequest) -> bytes:
    """Rebuild the request line; an HTTP/0.9 line has no version."""
    if request.protocol == b"HTTP/0.9":
        return request.method + b" " + request.target
    return b" ".join((request.method, request.target, request.protocol))


def _host_name(request: WafRequest) -> bytes:
    hosts = request.header_values(b"host")
    if not hosts:
        return request.server_address.encode()
    host = hosts[0]
    if host.startswith(b"["):
        return host.partition(b"]")[0] + b"]"
    return host.partition(b":")[0]


def query_arguments(query: bytes) -> tuple[Collection, bool]:
    """Parse the query string into ARGS_GET; also report an invalid %-escape."""
    collection = Collection("ARGS_GET")
    invalid = False
    for name, value, bad in split_form(query):
        collection.add(to_text(name), value)
        invalid = invalid or bad
    return collection, invalid


def header_collection(request: WafRequest) -> Collection:
    pairs = ((to_text(name), value) for name, value in request.headers)
    return Collection("REQUEST_HEADERS", pairs)


def cookie_collection(request: WafRequest) -> Collection:
    """Parse every Cookie field as ``name=value`` pairs separated by ``;``."""
    cookies = Collection("REQUEST_COOKIES")
    for field_value in request.header_values(b"cookie"):
        for part in field_value.split(b";"):
            item = part.strip(b" \t")
            if not item:
                continue
            name, equals, value = item.partition(b"=")
            if not equals:
                cookies.add(to_text(name), b"")
                continue
            cookies.add(to_text(name.strip()), value)
    return cookies
