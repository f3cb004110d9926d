"""SecLang transformations: the ``t:`` functions applied to a value before an operator.

Each transformation is a function from bytes to bytes in its own module,
named after its SecLang name, that registers itself on import. They follow
ModSecurity v3 byte for byte unless their docstring states otherwise, and
the decoders skip the work when a value contains nothing to decode.

>>> get_transformation("URLDECODEUNI")(b"%u0041+b")
b'A b'

NOTE: the decoders loop in Python once per escape, so a value made only of
escapes is slow. The worst inputs of urlDecodeUni, htmlEntityDecode,
jsDecode, cssDecode, utf8toUnicode and removeCommentsChar cost 0.1 to 0.7 s
per MiB on a 2-core test VM. Callers should cap the length of inspected values.
"""

from __future__ import annotations

from stockade.waf.transformations import (
    base64_decode,
    base64_decode_ext,
    base64_encode,
    cmd_line,
    compress_whitespace,
    css_decode,
    escape_seq_decode,
    hex_decode,
    hex_encode,
    html_entity_decode,
    js_decode,
    length,
    lowercase,
    md5,
    none,
    normalize_path,
    normalize_path_win,
    parity_even_7bit,
    parity_odd_7bit,
    parity_zero_7bit,
    remove_comments,
    remove_comments_char,
    remove_nulls,
    remove_whitespace,
    replace_comments,
    replace_nulls,
    sha1,
    sql_hex_decode,
    trim,
    trim_left,
    trim_right,
    uppercase,
    url_decode,
    url_decode_uni,
    url_encode,
    utf8_to_unicode,
)
from stockade.waf.transformations._registry import (
    Transformation,
    UnknownTransformationError,
    lookup,
    registered_names,
)

__all__ = [
    "TRANSFORMATION_NAMES",
    "Transformation",
    "UnknownTransformationError",
    "get_transformation",
]

# The modules above are imported for their registration side effect.
_MODULES = (
    base64_decode,
    base64_decode_ext,
    base64_encode,
    cmd_line,
    compress_whitespace,
    css_decode,
    escape_seq_decode,
    hex_decode,
    hex_encode,
    html_entity_decode,
    js_decode,
    length,
    lowercase,
    md5,
    none,
    normalize_path,
    normalize_path_win,
    parity_even_7bit,
    parity_odd_7bit,
    parity_zero_7bit,
    remove_comments,
    remove_comments_char,
    remove_nulls,
    remove_whitespace,
    replace_comments,
    replace_nulls,
    sha1,
    sql_hex_decode,
    trim,
    trim_left,
    trim_right,
    uppercase,
    url_decode,
    url_decode_uni,
    url_encode,
    utf8_to_unicode,
)

TRANSFORMATION_NAMES: frozenset[str] = registered_names()


def get_transformation(name: str) -> Transformation:
    """Return the transformation written as ``t:name``, matching the name in any case.

    Raises UnknownTransformationError, which lists close names, for a name
    no transformation has.
    """
    return lookup(name)
