"""The two-ministry stores of the bundle tests, for the desk's sharing tests."""

from tests.bundles.conftest import _template, pair

__all__ = ["_template", "pair"]
