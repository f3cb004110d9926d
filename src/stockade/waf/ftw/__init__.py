"""A conformance runner for go-ftw regression tests (the CRS's test format).

Each test's request is built from its ``input`` and run through every
phase of the engine in-process; the rule ids the engine logged are
compared with the test's ``output``.
"""
