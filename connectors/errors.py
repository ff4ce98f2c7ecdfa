"""The two errors of the connector contract: one stops a run, the other dead-letters one record."""

from __future__ import annotations


class ConnectorError(RuntimeError):
    """A run cannot go on (bad configuration, expired credentials...): the message says what to do."""


class MappingError(ValueError):
    """A source record cannot become a raw event; it goes to the dead-letter topic with this reason."""
