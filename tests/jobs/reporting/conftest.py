"""The report is checked on the queues' own seeded month (tests/ecoute/views), so both read the same figures."""

from tests.ecoute.views.conftest import seeded  # noqa: F401  (a fixture, shared)
