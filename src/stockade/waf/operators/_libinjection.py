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


def sqli_fingerprint(value: bytes) -> bytes | None:
    """Return the SQL injection fingerprint libinjection finds in ``value``, or None."""
    fingerprint = ctypes.create_string_buffer(FINGERPRINT_SIZE)
    if _sqli(value, len(value), fingerprint):
        return fingerprint.value
    return None


def is_xss(value: bytes) -> bool:
    """Return True when libinjection finds cross-site scripting in ``value``."""
    return bool(_xss(value, len(value)))
