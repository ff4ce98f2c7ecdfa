"""The enrichment executors take the model in use at each micro-batch: a model built (or rolled back)
while the job runs labels the next batch, without a restart, and every document names its model."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pyarrow as pa

from ecoute import events
from ecoute.settings import get_settings
from jobs.enrich.executor import enrich_partition
from jobs.labeller import history
from jobs.labeller.config import LabellerConfig, default_config
from jobs.labeller.heads import PACKAGED_ARTEFACT, LabelModel, LinearHead
from tests.jobs.enrich.events import raw_event

TEXTS = ["Merci beaucoup, service impeccable !", "Colis jamais reçu, trois semaines d'attente, honteux"]


def _batch(start: int) -> pa.RecordBatch:
    values = [orjson.dumps(raw_event(start + i, text=t)) for i, t in enumerate(TEXTS)]
    n = len(values)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(["ecoute.raw.v1"] * n),
            pa.array([0] * n, pa.int32()),
            pa.array(range(n), pa.int64()),
            pa.array([datetime.now(UTC)] * n, pa.timestamp("ms", tz="UTC")),
            pa.array(values, pa.binary()),
        ],
        names=["topic", "partition", "offset", "timestamp", "value"],
    )


def _docs(start: int) -> list[dict]:
    config = LabellerConfig.from_settings(get_settings())
    (out,) = list(enrich_partition(iter([_batch(start)]), store_author_names=False, labeller_config=config))
    docs = [orjson.loads(d) for d in out.to_pydict()["doc"]]
    assert all(events.validation_errors(d, "enriched_event.schema.json") == [] for d in docs)
    return docs


def test_a_new_model_labels_the_next_micro_batch(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ECOUTE_LABELLER_DIR", str(tmp_path))
    get_settings.cache_clear()  # the settings (and the labeller config made from them) are read once
    default_config.cache_clear()
    base = LabelModel.load(PACKAGED_ARTEFACT)
    first = _docs(1)
    assert {d["model_version"] for d in first} == {base.version}

    model = LabelModel.load(PACKAGED_ARTEFACT)  # a "new" model whose sentiment says the opposite
    model.meta = {
        **model.meta,
        "version": "20261205T000000Z",
        "created_at": "2026-12-05T00:00:00+00:00",
        "kind": "feedback",
    }
    for key, head in list(model.heads.items()):
        if key[0] == "sentiment":
            model.heads[key] = LinearHead(head.classes, -head.coef, -head.intercept)
    model.save(tmp_path / "models" / "e5-heads-20261205T000000Z.npz")
    history.record("20261205T000000Z", "build", "test")
    second = _docs(11)
    assert {d["model_version"] for d in second} == {"20261205T000000Z"}
    assert [d["sentiment"] for d in second] != [d["sentiment"] for d in first]

    history.rollback(base.version, "test")
    third = _docs(21)
    assert {d["model_version"] for d in third} == {base.version}
    assert [d["sentiment"] for d in third] == [d["sentiment"] for d in first]
    get_settings.cache_clear()
    default_config.cache_clear()
