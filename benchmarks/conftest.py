"""The benchmarks use the test suite's fixtures."""

from tests.conftest import *  # noqa: F403
