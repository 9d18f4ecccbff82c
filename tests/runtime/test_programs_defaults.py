"""The default router and profiles: logic and arithmetic go to the solvers, chat goes to the LLM."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evolved_runtime.programs.defaults import profiles
from evolved_runtime.programs.defaults.router import route
from evolved_runtime.programs.protocols import Profile

QUESTIONS = yaml.safe_load((Path(__file__).parent / "eval" / "questions.yaml").read_text())
ANSWERABLE = [q for q in QUESTIONS if q["expected"] != "UNKNOWN"]
CHAT = [
    "Write a haiku about autumn.",
    "What is the capital of France?",
    "Tell me a joke about programmers.",
    "Summarize the plot of Hamlet in two sentences.",
    "How do I bake sourdough bread?",
    "Explain quantum computing to a child.",
    "Translate 'good morning' into Spanish.",
    "Hello!",
    "Write a Python function that reverses a string.",
    "What are the benefits of exercise?",
    "Give me some ideas for a birthday party.",
    "Can you recommend a good book?",
    "What happens if I mix bleach and ammonia?",
    "List 5 countries in Europe.",
    "I have a meeting at 3pm. Can you draft an agenda?",
]
CLASSES = [
    ("a syllogism", "All men are mortal. Socrates is a man. Therefore, Socrates is mortal.", "syllogism"),
    ("facts about individuals", "All birds have feathers. Tweety is a bird. Does Tweety have feathers?", "syllogism"),
    ("an if-then rule", "If Tom is hungry then Tom is grumpy. Tom is hungry. Is Tom grumpy?", "rules"),
    ("a rule with a trailing if", "A is on B. A block is clear if nothing is on it. Is A clear?", "rules"),
    ("an ordering", "Alice is taller than Bob. Bob is taller than Carol. Is Alice taller than Carol?", "comparison"),
    ("an ordering in symbols", "p < q. q <= r. r < s. Is p < s?", "comparison"),
    ("an equation", "Solve 3x + 5 = 20", "arithmetic"),
    ("numeric facts", "x is 5. y is 3 more than x. z is 7. Is y greater than z?", "arithmetic"),
    ("a search for an integer", "Find an integer x such that 2x = 5.", "arithmetic"),
]


@pytest.mark.parametrize("question", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_every_question_the_solvers_can_answer_goes_to_tier_1(question: dict[str, str]) -> None:
    assert route(question["text"], {}).tier == 1


@pytest.mark.parametrize("prompt", CHAT)
def test_chat_goes_to_the_llm(prompt: str) -> None:
    decision = route(prompt, {})
    assert (decision.tier, decision.profile_name) == (0, "default")


@pytest.mark.parametrize(("case", "prompt", "profile"), CLASSES, ids=[c[0] for c in CLASSES])
def test_the_router_names_the_problem_class(case: str, prompt: str, profile: str) -> None:
    assert route(prompt, {}).profile_name == profile


@pytest.mark.parametrize(
    ("kind", "solver"), [("smtlib", "z3"), ("asp", "clingo"), ("symil", None)], ids=["smtlib", "asp", "symil"]
)
def test_formal_input_goes_to_tier_1_with_its_solver(kind: str, solver: str | None) -> None:
    decision = route("anything", {"formal": kind})
    assert (decision.tier, decision.profile_name, decision.preferred_solver) == (1, "formal", solver)


def test_a_fenced_block_is_formal_even_without_the_pipeline_saying_so() -> None:
    decision = route("```asp\na. b :- a.\n```", {})
    assert (decision.tier, decision.preferred_solver) == (1, "clingo")


def test_a_tier_hint_wins_but_keeps_the_problem_class() -> None:
    assert route("Write a haiku about autumn.", {"tier": 1}).tier == 1
    hinted = route("Solve 3x + 5 = 20", {"tier": 2})
    assert (hinted.tier, hinted.profile_name) == (2, "arithmetic")
    assert route("Solve 3x + 5 = 20", {"tier": 0}).tier == 0
    assert route("```smt2\n(check-sat)\n```", {"tier": 0}).tier == 1  # formal input needs no LLM


def test_a_router_decision_leaves_the_level_to_the_profile() -> None:
    assert "symil_level" not in route("Solve 3x + 5 = 20", {}).model_fields_set


def test_every_profile_the_router_names_exists() -> None:
    names = set(profiles.list_profiles())
    assert {c[2] for c in CLASSES} | {"default", "formal"} <= names
    for name in names:
        profile = profiles.get_profile(name)
        assert isinstance(profile, Profile)
        assert profile.name == name


def test_logic_classes_prefer_clingo_and_numbers_prefer_z3() -> None:
    solvers = {name: profiles.get_profile(name).solver for name in profiles.list_profiles()}
    assert solvers["syllogism"] == solvers["rules"] == "clingo"
    assert solvers["arithmetic"] == solvers["comparison"] == "z3"


def test_an_unknown_profile_name_gets_the_default() -> None:
    assert profiles.get_profile("no-such-class").name == "default"
