"""The data the DAGs hand each other (Airflow Assets), declared once for every DAG file.

- ``MENTIONS``: the enriched mentions in Elasticsearch (alias ``settings.indices.mentions``). The
  enrichment DAG publishes an event when a run wrote mentions; the rollups DAG runs on it (and on
  its daily schedule), so the figures follow the mentions without waiting for midnight.
"""

from __future__ import annotations

from airflow.sdk import Asset

MENTIONS = Asset(name="ecoute_mentions", uri="ecoute://elasticsearch/mentions")
