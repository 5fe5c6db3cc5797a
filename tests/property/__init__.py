"""Property tests: the production replay and pricing against the plain-Python reference."""

import pytest

# the checks assert in helper modules: have pytest show their differences item by item
pytest.register_assert_rewrite("tests.property.pricing_check", "tests.property.replay_check")
