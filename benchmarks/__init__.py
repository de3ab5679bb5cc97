"""Benchmarks: they print figures and assert no wall-clock times."""
