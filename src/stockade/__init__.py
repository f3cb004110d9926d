"""Stockade: a multi-tenant API gateway, WAF and API protection layer in one reverse proxy."""

__version__ = "0.1.0"
