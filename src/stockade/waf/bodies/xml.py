"""XML bodies for ``XML:/*`` (all text) and ``XML://@*`` (every attribute value).

The parser is expat driven directly. A document type declaration is a
body error, so entity definitions, and with them entity expansion and
external entities, never reach the parser's expansion code; expat never
opens files or network connections for an external reference we refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.parsers import expat

from stockade.waf.bodies.arguments import set_body_error

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

SUPPORTED_PATHS = ("/*", "//@*")
MAX_XML_ELEMENTS = 100_000
"""Elements allowed in one document; past it the body is an error (a cheap DoS guard)."""


class _Rejected(Exception):
    pass


class _Collector:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.attributes: list[str] = []
        self.elements = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > MAX_XML_ELEMENTS:
            raise _Rejected(f"more than {MAX_XML_ELEMENTS} elements")
        self.attributes.extend(attributes.values())

    def characters(self, data: str) -> None:
        self.text.append(data)

    def doctype(self, *_args: object) -> None:
        raise _Rejected("document type declarations are not accepted")

    def entity(self, *_args: object) -> None:
        raise _Rejected("entity declarations are not accepted")

    def external(self, *_args: object) -> int:
        raise _Rejected("external entities are not accepted")


def parse(transaction: Transaction, body: bytes) -> None:
    collector = _Collector()
    parser = expat.ParserCreate()
    parser.StartElementHandler = collector.start
    parser.CharacterDataHandler = collector.characters
    parser.StartDoctypeDeclHandler = collector.doctype
    parser.EntityDeclHandler = collector.entity
    parser.ExternalEntityRefHandler = collector.external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, _Rejected) as error:
        set_body_error(transaction, f"XML parsing error: {error}")
        return
    transaction.xml_text = "".join(collector.text).encode("utf-8", "surrogatepass")
    transaction.xml_attributes = [item.encode("utf-8", "surrogatepass")
                                  for item in collector.attributes]


def xml_values(transaction: Transaction, path: str) -> list[bytes]:
    """Return the values of a supported XPath; nothing when no XML body was parsed."""
    if transaction.xml_text is None:
        return []
    if path == "/*":
        return [transaction.xml_text]
    if path == "//@*":
        return list(transaction.xml_attributes)
    return []
