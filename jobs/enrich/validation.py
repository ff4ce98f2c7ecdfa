"""The validation gate's table and Data Docs: the Great Expectations 1.x suite of the enrichment job.

The suite is data, not code: ``schemas/expectations/enriched_mentions.json``. Its table is
``jobs.enrich.rows.GATE_COLUMNS``: ``gate_row`` turns an enriched event into the flat row the suite
describes (derived columns for dates and topic scores); the executors compute it for every document
and ``jobs.enrich.gate`` evaluates the suite on those rows in Spark, every micro-batch.
``build_data_docs`` renders GX Data Docs on demand from a sample of what is stored in Elasticsearch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import schemas
from jobs.enrich.rows import SUITE_COLUMNS, gate_row

if TYPE_CHECKING:
    import pandas as pd

    from ecoute.settings import Settings

log = logging.getLogger(__name__)

SUITE_NAME = "enriched_mentions"

# GX phones home and draws progress bars unless told otherwise; neither belongs in a stream job.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def gate_frame(docs: Sequence[dict[str, Any]], now_epoch_s: float | None = None) -> pd.DataFrame:
    """The suite's table of stored documents (pandas), one row per doc, index = position in ``docs``;
    the stream's is ``jobs.enrich.gate.checked_table`` (Spark), the same columns from executor rows."""
    import time

    import pandas as pd

    now = time.time() if now_epoch_s is None else now_epoch_s
    return pd.DataFrame.from_records([gate_row(doc, now) for doc in docs], columns=list(SUITE_COLUMNS))


def suite_definition() -> dict[str, Any]:
    return schemas.expectation_suite(SUITE_NAME)


def describe(expectation: dict[str, Any] | Any) -> str:
    """A short readable name of an expectation: ``expect_…(column)``."""
    if not isinstance(expectation, dict):
        expectation = {"type": expectation.type, "kwargs": dict(expectation.kwargs)}
    kwargs = expectation.get("kwargs", {})
    column = kwargs.get("column")
    return f"{expectation['type']}({column})" if column else expectation["type"]


def build_data_docs(settings: Settings, sample_size: int = 5000) -> Path:
    """Validate a sample of the stored mentions with the suite and render GX Data Docs; returns index.html.

    Everything lives under ``<state_dir>/gx`` (a GX file context), so the docs can be opened offline;
    the validation results of every build are kept there too.
    """
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.datasource.fluent import PandasDatasource

    from ecoute.es import make_client, scan_docs

    client = make_client(settings)
    docs = []
    for doc in scan_docs(client, settings.indices.mentions):
        doc.pop("_id", None)
        doc.pop("_index", None)
        docs.append(doc)
        if len(docs) >= sample_size:
            break
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(settings.state_dir))  # GX adds "gx/"
    root = settings.state_dir / "gx"
    definition = suite_definition()
    suite = context.suites.add_or_update(
        ExpectationSuite(name=definition["name"], expectations=definition["expectations"], meta=definition.get("meta"))
    )
    try:
        source = context.data_sources.get("ecoute_mentions_sample")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("ecoute_mentions_sample")
    if not isinstance(source, PandasDatasource):
        raise TypeError(f"data source ecoute_mentions_sample is {type(source).__name__}, not a pandas one")
    try:
        asset = source.get_asset("sample")
    except LookupError:
        asset = source.add_dataframe_asset("sample")
    try:
        batch = asset.get_batch_definition("whole")
    except (KeyError, ValueError):
        batch = asset.add_batch_definition_whole_dataframe("whole")
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{SUITE_NAME}_sample", data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{SUITE_NAME}_docs",
            validation_definitions=[validation],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_docs")],
            result_format={"result_format": "SUMMARY"},
        )
    )
    checkpoint.run(batch_parameters={"dataframe": gate_frame(docs)})
    context.build_data_docs()
    index = root / "uncommitted" / "data_docs" / "local_site" / "index.html"
    if not index.is_file():
        found = sorted(root.rglob("index.html"))
        if not found:
            raise RuntimeError(f"GX built no Data Docs under {root}")
        index = found[0]
    return index
