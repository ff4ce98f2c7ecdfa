"""The encoder: one e5 encoding per distinct text (the query form), batched without changing a vector."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from jobs.labeller import encoder, get_labeller


class CountingModel:
    """The real e5 model, with a count of the texts it encodes in each form."""

    def __init__(self, model) -> None:
        self._model = model
        self.encoded = {"query": 0, "passage": 0}

    def _count(self, form: str, texts) -> None:
        self.encoded[form] += 1 if isinstance(texts, str) else len(texts)

    def query(self, texts):
        self._count("query", texts)
        return self._model.query(texts)

    def passage(self, texts):
        self._count("passage", texts)
        return self._model.passage(texts)


@pytest.fixture
def counting(monkeypatch) -> CountingModel:
    lab = get_labeller()  # built first: the taxonomy's sentences are encoded at load time, not per batch
    model = CountingModel(encoder._get_model())
    monkeypatch.setattr(encoder, "_get_model", lambda: model)
    monkeypatch.setattr(encoder, "_disk", None)  # no SQLite cache: every new text reaches the model
    monkeypatch.setattr(encoder, "_cache", OrderedDict())
    model.lab = lab
    return model


def test_each_text_is_encoded_once_in_the_query_form(counting):
    texts = [
        "Toujours pas reçu ma commande du 12, vous pouvez vérifier ?",
        "great service, thank you so much",
        "you are such a pathetic little idiot",  # the toxicity head reads the batch's embedding
        "Le colis est marqué livré mais je n'ai rien reçu.",  # topics read it too
        "great service, thank you so much",  # a copy: encoded once
        "😍😍😍",  # no words: never encoded
        "les prix ont encore augmenté, c'est abusé",
    ]
    cols = counting.lab.label_columns(texts)
    assert len(cols["sentiment"]) == len(texts)
    assert "delivery" in cols["topics"][3]
    assert counting.encoded == {"query": 5, "passage": 0}
    counting.lab.label_columns(texts)  # the same texts again: the in-process cache answers
    assert counting.encoded == {"query": 5, "passage": 0}


def test_batched_encoding_gives_each_text_its_own_vector(counting):
    texts = [f"commande numéro {i} pas encore arrivée" + " vraiment" * (i % 7) for i in range(encoder.ENCODE_BATCH + 9)]
    batched = encoder.embed(texts)
    assert counting.encoded["query"] == len(texts)
    one_by_one = np.vstack([counting._model.query(t) for t in texts])
    # each text runs alone through the engine: not a single bit moves
    assert np.array_equal(batched, one_by_one)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
