"""Scan reports: terminal summary, JSON, SARIF 2.1.0 and HTML."""
