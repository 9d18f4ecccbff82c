"""docs/operations.md explains every condition reason and every event reason the operator writes.

The reasons are read from the code, not listed by hand: the string literals of the modules that
decide conditions and post events (``ast``), by the shapes those modules use, plus the reasons
that are computed (``f"Analysis{verdict}"``, the ``*NotServed`` problems of optional child kinds)
by calling the code that makes them. A last test holds the extraction itself honest: every
CamelCase literal in those modules is an extracted reason or a word of a known vocabulary
(condition statuses and types, event types, kinds, rollout phases, verdicts), so a reason written
in a new shape fails here until it is extracted and documented."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

from evolved_operator import conditions
from evolved_operator.api_strategy import Strategy
from evolved_operator.children import CHILD_KINDS
from evolved_operator.controller import unserved_kinds
from evolved_operator.rollout.state import Phase

ROOT = Path(__file__).parents[1]
OPERATOR = ROOT / "operator"
FILES = [
    OPERATOR / name
    for name in (
        "conditions.py",
        "status.py",
        "controller.py",
        "inputs.py",
        "traffic/status.py",
        "rollout/steps.py",
    )
]
STATUSES = {"True", "False", "Unknown"}
EVENT_TYPES = {"Normal", "Warning"}
VERDICTS = {"Passed", "Failed", "Inconclusive"}  # evolved_operator.analysis.judge
CAMEL = re.compile(r"[A-Z][A-Za-z0-9]+")


def trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in FILES}


def strings(node: ast.AST) -> set[str]:
    """The reason(s) an expression can be: a string constant, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return strings(node.body) | strings(node.orelse)
    return set()


def verdict_reasons(node: ast.JoinedStr) -> set[str]:
    """``f"Analysis{judged.verdict}"``: one reason per verdict."""
    parts = node.values
    if len(parts) == 2 and const(parts[0]) and isinstance(parts[1], ast.FormattedValue):
        value = parts[1].value
        if isinstance(value, ast.Attribute) and value.attr == "verdict":
            return {f"{const(parts[0])}{verdict}" for verdict in VERDICTS}
    return set()


def const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def returns_reason_pair(fn: ast.FunctionDef) -> bool:
    """A function returning ``(reason, message)``: annotated ``tuple[str, str]`` (or ``| None``)."""
    return fn.returns is not None and "tuple[str, str]" in ast.unparse(fn.returns)


def condition_reasons() -> set[str]:
    reasons: set[str] = set()
    for tree in trees().values():
        for node in ast.walk(tree):
            # ("True" | "False" | "Unknown", reason, message): a condition verdict
            if isinstance(node, ast.Tuple) and len(node.elts) >= 2 and const(node.elts[0]) in STATUSES:
                reasons |= strings(node.elts[1])
            # Problem(reason, message): stalls the pipeline
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Problem":
                reasons |= strings(node.args[0])
            # stall= / waiting= / rejected= (reason, message)
            if isinstance(node, ast.keyword) and node.arg in {"stall", "waiting", "rejected"}:
                reasons |= strings(node.value.elts[0]) if isinstance(node.value, ast.Tuple) else set()
            # def f(...) -> tuple[str, str] | None: return (reason, message)
            if isinstance(node, ast.FunctionDef) and returns_reason_pair(node):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple) and ret.value.elts:
                        reasons |= strings(ret.value.elts[0])
            # for condition, reason in ((..., "Reason"), ...): reasons a loop picks from
            if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and isinstance(node.iter, ast.Tuple):
                names = [t.id if isinstance(t, ast.Name) else "" for t in node.target.elts]
                if "reason" in names:
                    at = names.index("reason")
                    for item in node.iter.elts:
                        if isinstance(item, ast.Tuple):
                            reasons |= strings(item.elts[at])
    # computed: a child kind whose CRD the cluster did not serve at start
    optional = frozenset(k.kind for k in CHILD_KINDS if k.optional)
    reasons |= {p.reason for p in unserved_kinds([{"kind": kind} for kind in optional], optional)}
    return reasons


def reason_parameters(tree: ast.Module) -> dict[str, int]:
    """Functions of a module with a parameter named ``reason``: name -> its position."""
    out: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.args]
            if "reason" in names:
                out[node.name] = names.index("reason")
    return out


def event_reasons() -> set[str]:
    reasons: set[str] = set()
    for tree in trees().values():
        takes_reason = reason_parameters(tree)
        for node in ast.walk(tree):
            # (event type, reason, message)
            if isinstance(node, ast.Tuple) and len(node.elts) == 3 and const(node.elts[0]) in EVENT_TYPES:
                reasons |= strings(node.elts[1])
            # (kind, f"Analysis{judged.verdict}", message)
            if isinstance(node, ast.JoinedStr):
                reasons |= verdict_reasons(node)
            if isinstance(node, ast.Call):
                args = node.args
                # self._event(body, "Normal", reason, message)
                for i, arg in enumerate(args[:-1]):
                    if const(arg) in EVENT_TYPES:
                        reasons |= strings(args[i + 1])
                # _roll_back(state, o, "Aborted", why, ...): a module function's reason parameter
                name = node.func.id if isinstance(node.func, ast.Name) else None
                if name in takes_reason and takes_reason[name] < len(args):
                    reasons |= strings(args[takes_reason[name]])
    return reasons


def vocabulary() -> set[str]:
    """CamelCase words of these modules that are not reasons."""
    kinds = {k.kind for k in CHILD_KINDS} | {"Secret", "ConfigMap"}
    strategies = set(typing.get_args(Strategy.model_fields["type"].annotation))
    return (
        STATUSES
        | EVENT_TYPES
        | set(conditions.TYPES)
        | kinds
        | strategies
        | set(typing.get_args(Phase))
        | VERDICTS
        | {"Active"}  # status.traffic.mirror.state (Active | Paused)
    )


def section(title: str) -> str:
    text = (ROOT / "docs" / "operations.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def named(text: str) -> set[str]:
    return set(re.findall(r"`([A-Za-z0-9]+)`", text))


def test_the_extraction_finds_the_reasons_known_today() -> None:
    assert condition_reasons() >= {
        "AllVariantsAvailable", "Reconciled", "Progressing", "Reconciling", "ApplyFailed", "ApplyingChildren",
        "RollingOut", "RouterRollingOut", "WaitingForGateway", "RolloutProgressing", "Promoting",
        "InvalidSpec", "ConfigMapNotFound", "ConfigMapKeyNotFound", "ProgramDigestMismatch", "SecretNotFound",
        "SecretKeyNotFound", "ProgramCheckFailed", "ProgressDeadlineExceeded", "RouteNotAccepted",
        "RouteRefsNotResolved", "GatewayAPINotInstalled", "RolloutAborted", "PromotionNotRecorded",
    }  # fmt: skip
    assert event_reasons() >= {
        "WeightsChanged", "MirrorPaused", "MirrorResumed", "RolloutStarted", "StepAdvanced", "AnalysisPassed",
        "AnalysisInconclusive", "AnalysisFailed", "Paused", "Resumed", "Promoting", "Promoted", "Aborted",
        "RolledBack", "ChildrenApplied", "ProgramsChanged", "Ready", "NotReady", "Recovered", "DriftReverted",
    }  # fmt: skip


def test_every_camelcase_literal_of_those_modules_is_an_extracted_reason_or_a_known_word() -> None:
    found: set[str] = set()
    for tree in trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                continue
            value = const(node)
            if value is not None and CAMEL.fullmatch(value):
                found.add(value)
    for tree in trees().values():  # literals inside f-strings are fragments, not words
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                found -= {v for v in (const(p) for p in node.values) if v}
    unexplained = found - condition_reasons() - event_reasons() - vocabulary()
    assert not unexplained, f"extract these as reasons (and document them) or add them to vocabulary(): {unexplained}"


def test_every_condition_reason_is_explained_in_the_troubleshooting_section() -> None:
    missing = condition_reasons() - named(section("Troubleshooting by condition reason"))
    assert not missing, f"docs/operations.md does not explain the condition reason(s) {sorted(missing)}"


def test_every_event_reason_is_explained_in_the_events_section() -> None:
    missing = event_reasons() - named(section("Events"))
    assert not missing, f"docs/operations.md does not explain the event reason(s) {sorted(missing)}"


def test_a_stall_is_also_posted_as_a_warning_event_and_the_docs_say_so() -> None:
    events = section("Events")
    assert "Warning event" in events
    assert "Stalled" in events
