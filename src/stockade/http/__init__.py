"""Sans-IO HTTP/1.1 messages and framing rules.

Importing the package puts its mypyc-compiled modules first when a build
that matches the sources exists (see stockade.native)."""

from stockade import native as _native

_native.attach(__path__, "http")
