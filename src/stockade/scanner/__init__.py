"""Active security tests of an API against the OWASP API Security Top 10.

``stockade scan`` loads an OpenAPI document, logs in the configured users,
runs every check family in ``stockade.scanner.checks`` against the one
target base URL the user named, and reports only what each check could
confirm, with the request and response that prove it.
"""
