"""libinjection's C functions, called on raw bytes.

The Python wrapper of libinjection-python accepts only str and encodes it
as UTF-8, which would change any value that is not valid UTF-8. Its
extension module exports the C API itself (libinjection 3.9, the version
ModSecurity v3 bundles), so the bytes are passed unchanged through ctypes.
"""

from __future__ import annotations

import ctypes

import libinjection

FINGERPRINT_SIZE = 8  # libinjection writes at most 5 tokens and a NUL

_library = ctypes.CDLL(libinjection.__file__)

_sqli = _library.libinjection_sqli
_sqli.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
_sqli.restype = ctypes.c_int

_xss = _library.libinjection_xss
_xss.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_xss.restype = ctypes.c_int

_version = _library.libinjection_version
_version.argtypes = []
_version.restype = ctypes.c_char_p

LIBINJECTION_VERSION: str = (_version() or b"unknown").decode("ascii", "replace")

REMEMBERED_VALUE_BYTES = 256
"""Values up to this length keep their result, because header values and names repeat."""
MAX_REMEMBERED = 16384
"""Results kept per function; past it the memory starts again."""

_sqli_results: dict[bytes, bytes | None] = {}
_xss_results: dict[bytes, bool] = {}


def sqli_fingerprint(value: bytes) -> bytes | None:
    """Return the SQL injection fingerprint libinjection finds in ``value``, or None."""
    if len(value) <= REMEMBERED_VALUE_BYTES and value in _sqli_results:
        return _sqli_results[value]
    fingerprint = ctypes.create_string_buffer(FINGERPRINT_SIZE)
    result = fingerprint.value if _sqli(value, len(value), fingerprint) else None
    if len(value) <= REMEMBERED_VALUE_BYTES:
        if len(_sqli_results) >= MAX_REMEMBERED:
            _sqli_results.clear()
        _sqli_results[value] = result
    return result


def is_xss(value: bytes) -> bool:
    """Return True when libinjection finds cross-site scripting in ``value``."""
    if len(value) <= REMEMBERED_VALUE_BYTES:
        known = _xss_results.get(value)
        if known is not None:
            return known
    result = bool(_xss(value, len(value)))
    if len(value) <= REMEMBERED_VALUE_BYTES:
        if len(_xss_results) >= MAX_REMEMBERED:
            _xss_results.clear()
        _xss_results[value] = result
    return result
