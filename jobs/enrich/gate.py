"""The validation gate on Spark: the Great Expectations suite, row by row and batch by batch.

``schemas/expectations/enriched_mentions.json`` is the one source of truth. ``stage`` turns a batch
of executor rows into the frame the sink writes, in Spark (on the executors): duplicates within the
batch collapse to the latest record, events of erased authors are flagged, and every remaining row
carries the names of the expectations it fails (``failed``), compiled from the suite with the
semantics of GX's column-map expectations (nulls are ignored except by ``…_to_not_be_null``). The
sink quarantines those rows and counts, per expectation, rows checked and rows failing: the
batch-level result, summed on the driver.

``validate_with_gx`` runs the same suite through GX 1.x on ``checked_table`` (a Spark DataFrame, GX's
Spark execution engine), to cross-check the compiled form; per micro-batch it is far too slow
(≈ 6–9 s for 20k rows, measured on this machine), so the stream uses the compiled form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from jobs.enrich.rows import GATE_COLUMN_OF, SUITE_COLUMNS
from jobs.enrich.validation import describe, suite_definition

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


class UnsupportedExpectation(ValueError):
    """The suite uses an expectation type the gate cannot evaluate row by row."""


@cache
def expectations() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(readable name, expectation) of the suite, in its order."""
    return tuple((describe(e), e) for e in suite_definition()["expectations"])


def expectation_names() -> list[str]:
    return [name for name, _ in expectations()]


def _column(name: str) -> Column:
    from pyspark.sql import functions as F

    return F.col(GATE_COLUMN_OF.get(name, name))


def unexpected(expectation: dict[str, Any], checked: Column) -> Column:
    """A boolean Column: true where the row fails ``expectation`` (GX semantics), among ``checked`` rows."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    kind, kwargs = expectation["type"], expectation.get("kwargs", {})
    if kwargs.get("mostly") not in (None, 1, 1.0):
        raise UnsupportedExpectation(f"{describe(expectation)}: 'mostly' is not supported row by row")
    column = _column(kwargs["column"])
    present = column.isNotNull()
    if kind == "expect_column_values_to_not_be_null":
        return column.isNull()
    if kind == "expect_column_values_to_be_unique":
        # Over the batch's dedupe key when it is the id: the same shuffle as the dedupe.
        by = "_key" if kwargs["column"] == "id" else GATE_COLUMN_OF.get(kwargs["column"], kwargs["column"])
        peers = F.sum(F.when(checked & present, 1).otherwise(0)).over(Window.partitionBy(by))
        return present & (peers > 1)
    if kind == "expect_column_values_to_match_regex":
        return present & ~column.rlike(kwargs["regex"])
    if kind == "expect_column_values_to_be_in_set":
        return present & ~column.isin(list(kwargs["value_set"]))
    if kind in ("expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between"):
        value = F.length(column) if kind == "expect_column_value_lengths_to_be_between" else column
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        outside = F.lit(False)
        if low is not None:
            outside = outside | ((value <= low) if kwargs.get("strict_min") else (value < low))
        if high is not None:
            outside = outside | ((value >= high) if kwargs.get("strict_max") else (value > high))
        return present & outside
    raise UnsupportedExpectation(f"{describe(expectation)}: no row-level form; add it to jobs/enrich/gate.py")


@dataclass(frozen=True)
class GateColumns:
    """The gate's column expressions, built once per query: they name columns, not a DataFrame, and
    building the suite's ≈ 25 expressions through Py4J took ≈ 0.3 s of every micro-batch."""

    good: Column  # parsed without error
    key: Column
    latest: Column
    checked: Column | None  # None: no validation (the benchmark's raw pass-through)
    failed: Column | None


def gate_columns(validate: bool = True) -> GateColumns:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    good = F.col("error").isNull()
    key = F.when(good & F.col("event_id").isNotNull(), F.col("event_id")).otherwise(
        F.concat_ws(":", "topic", "partition", "offset")
    )
    # Same id twice in a batch (a connector's at-least-once replay): the later record wins. Over
    # ``_key`` like the uniqueness check, so both windows share one shuffle.
    latest = F.row_number().over(Window.partitionBy("_key").orderBy(F.desc("partition"), F.desc("offset"))) == 1
    if not validate:
        return GateColumns(good, key, latest | ~good, None, None)
    checked = good & F.col("latest") & ~F.col("erased")
    failures = [F.when(unexpected(e, checked), F.lit(name)) for name, e in expectations()]
    failed = F.when(checked, F.array_compact(F.array(*failures))).otherwise(F.array().cast("array<string>"))
    return GateColumns(good, key, latest | ~good, checked, failed)


def stage(
    rows: DataFrame, erased_authors: Iterable[str], *, validate: bool = True, columns: GateColumns | None = None
) -> DataFrame:
    """The batch as the sink writes it: ``latest``, ``erased`` and ``failed`` columns added.

    ``columns`` (``gate_columns(validate)``) saves rebuilding the expressions for every batch."""
    from pyspark.sql import functions as F

    columns = columns or gate_columns(validate)
    erased_list = sorted(set(erased_authors))
    erased = columns.good & F.col("author_id").isin(erased_list) if erased_list else F.lit(False)
    # One projection per level of dependency (each withColumn is analysed on its own).
    keyed = rows.withColumn("_key", columns.key)
    staged = keyed.withColumns({"latest": columns.latest, "erased": erased})
    if columns.checked is None or columns.failed is None:
        return staged.withColumns({"checked": F.lit(False), "failed": F.array().cast("array<string>")})
    return staged.withColumns({"checked": columns.checked, "failed": columns.failed})


def checked_table(staged: DataFrame) -> DataFrame:
    """The suite's table (``SUITE_COLUMNS``, named as in the suite) of the staged rows the gate checked."""
    from pyspark.sql import functions as F

    return staged.where("checked").select(*(F.col(GATE_COLUMN_OF.get(c, c)).alias(c) for c in SUITE_COLUMNS))


@cache
def gx_spark() -> tuple[Any, Any, Any]:
    """(context, Spark DataFrame batch definition, suite): an ephemeral GX context, built once."""
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    definition = suite_definition()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = context.data_sources.add_spark("ecoute_enrich_spark").add_dataframe_asset("rows")
    suite = context.suites.add(
        ExpectationSuite(name=definition["name"], expectations=definition["expectations"], meta=definition.get("meta"))
    )
    return context, batch.add_batch_definition_whole_dataframe("whole"), suite


def validate_with_gx(frame: DataFrame) -> dict[str, tuple[bool, int, int]]:
    """GX (Spark execution engine) on a gate frame: expectation → (success, element_count, unexpected_count)."""
    _, definition, suite = gx_spark()
    # The batch is validated directly, not through ValidationDefinition.run, which keeps every result
    # in the context's in-memory store (unbounded if called per batch).
    result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format={"result_format": "BASIC"}
    )
    out = {}
    for item in result.results:
        info = item.result or {}
        out[describe(item.expectation_config)] = (
            bool(item.success),
            int(info.get("element_count") or 0),
            int(info.get("unexpected_count") or 0),
        )
    return out
