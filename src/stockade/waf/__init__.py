"""The SecLang engine that runs the OWASP Core Rule Set.

Importing the package puts the mypyc-compiled core modules first when a
build that matches these sources exists (see stockade.native).
"""

from stockade import native as _native

_native.attach(__path__, "waf")
