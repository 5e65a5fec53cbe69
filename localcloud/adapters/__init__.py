"""Adapters: each closes one gap between moto's Step Functions engine and what this app needs.

Every adapter is small, named after the gap it closes, installs by replacing exactly one thing in moto,
and has a test in tests/localcloud/test_adapters.py that fails if moto changes under it.
"""
