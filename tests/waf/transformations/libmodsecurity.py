"""Run single SecLang rules through libmodsecurity 3 (the reference engine) with ctypes.

Used by the parity tests to compare Stockade's transformations and operators
with ModSecurity's on the same bytes. The value under test travels in a
request header, which ModSecurity stores without decoding it.
"""

from __future__ import annotations

import ctypes
import ctypes.util

LIBRARY_NAMES = ("libmodsecurity.so.3", "libmodsecurity.so")
TEST_HEADER = b"X-Test-Value"
DENY_STATUS = 403


class _Intervention(ctypes.Structure):
    _fields_ = [
        ("status", ctypes.c_int),
        ("pause", ctypes.c_int),
        ("url", ctypes.c_char_p),
        ("log", ctypes.c_char_p),
        ("disruptive", ctypes.c_int),
    ]


def _load() -> ctypes.CDLL | None:
    for name in LIBRARY_NAMES:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _declare(library: ctypes.CDLL) -> None:
    pointer = ctypes.c_void_p
    library.msc_init.restype = pointer
    library.msc_who_am_i.argtypes = [pointer]
    library.msc_who_am_i.restype = ctypes.c_char_p
    library.msc_create_rules_set.restype = pointer
    library.msc_rules_add.argtypes = [pointer, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
    library.msc_rules_cleanup.argtypes = [pointer]
    library.msc_new_transaction.argtypes = [pointer, pointer, pointer]
    library.msc_new_transaction.restype = pointer
    library.msc_process_connection.argtypes = [
        pointer, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int
    ]  # fmt: skip
    library.msc_process_uri.argtypes = [pointer, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
    library.msc_add_n_request_header.argtypes = [
        pointer, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t
    ]  # fmt: skip
    library.msc_process_request_headers.argtypes = [pointer]
    library.msc_intervention.argtypes = [pointer, ctypes.POINTER(_Intervention)]
    library.msc_transaction_cleanup.argtypes = [pointer]


class ModSecurity:
    """One libmodsecurity instance that evaluates a rule against a header value."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._library = library
        _declare(library)
        self._engine = library.msc_init()

    @property
    def version(self) -> str:
        return (self._library.msc_who_am_i(self._engine) or b"").decode("ascii", "replace")

    def rule_denies(self, operator: str, actions: str, value: bytes) -> bool:
        """Return True when ``SecRule <header> "operator" "actions,deny"`` fires on ``value``.

        Raises ValueError when ModSecurity rejects the rule text.
        """
        return self.rule_denies_each(operator, actions, [value])[0]

    def rule_denies_each(self, operator: str, actions: str, values: list[bytes]) -> list[bool]:
        """Load the rule once and return, per value, whether it fires.

        Raises ValueError when ModSecurity rejects the rule text.
        """
        library = self._library
        rules = library.msc_create_rules_set()
        error = ctypes.c_char_p()
        text = (
            "SecRuleEngine On\n"
            f'SecRule REQUEST_HEADERS:{TEST_HEADER.decode()} "{operator}" '
            f'"id:1,phase:1,deny,status:{DENY_STATUS},{actions}"\n'
        )
        try:
            if library.msc_rules_add(rules, text.encode(), ctypes.byref(error)) < 0:
                raise ValueError((error.value or b"").decode("utf-8", "replace"))
            return [self._denies(rules, value) for value in values]
        finally:
            library.msc_rules_cleanup(rules)

    def _denies(self, rules: int, value: bytes) -> bool:
        library = self._library
        transaction = library.msc_new_transaction(self._engine, rules, None)
        try:
            library.msc_process_connection(transaction, b"127.0.0.1", 40000, b"127.0.0.1", 80)
            library.msc_process_uri(transaction, b"/", b"GET", b"1.1")
            library.msc_add_n_request_header(
                transaction, TEST_HEADER, len(TEST_HEADER), value, len(value)
            )
            library.msc_process_request_headers(transaction)
            intervention = _Intervention(status=200)
            library.msc_intervention(transaction, ctypes.byref(intervention))
            return bool(intervention.status == DENY_STATUS)
        finally:
            library.msc_transaction_cleanup(transaction)

    def transforms_to(self, transformation: str, value: bytes, expected: bytes) -> bool:
        """Return True when ModSecurity turns ``value`` into exactly ``expected``."""
        pattern = "^" + "".join(f"\\x{byte:02x}" for byte in expected) + "$"
        return self.rule_denies(f"@rx {pattern}", f"t:none,t:{transformation}", value)


def load_modsecurity() -> ModSecurity | None:
    """Return a ModSecurity instance, or None when libmodsecurity 3 is not installed."""
    library = _load()
    if library is None:
        return None
    return ModSecurity(library)
