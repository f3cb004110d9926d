"""The SecLang configuration language: directives, action lists and variable lists."""

from stockade.waf.seclang.errors import SecLangError
from stockade.waf.seclang.lexer import Directive, read_directives
from stockade.waf.seclang.loader import load_directives

__all__ = ["Directive", "SecLangError", "load_directives", "read_directives"]
