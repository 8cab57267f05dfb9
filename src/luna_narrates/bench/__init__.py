"""Benchmarks: measuring functions that return dataclasses, and their markdown rendering.

Benchmarks are commands (`luna bench …`), never timed tests: their numbers go to
docs/benchmarks.md, and the tests only check that the machinery works.
"""
