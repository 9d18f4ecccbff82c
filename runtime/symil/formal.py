"""Recognise input that is already formal: SymIL JSON, SMT-LIB 2 or ASP in a fenced block."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, ValidationError

from evolved_runtime.symil.models import Problem


class _SourceTask(BaseModel):
    """Formal input that is its source text only."""

    model_config = ConfigDict(frozen=True)
    source: str


class SmtLibTask(_SourceTask):
    """An SMT-LIB 2 script for Z3 (declarations and assertions; check-sat is implied)."""


class AspTask(_SourceTask):
    """A Clingo (ASP) program."""


FormalTask = Problem | SmtLibTask | AspTask


class FormalInputError(ValueError):
    """A fenced block claims to be formal input but is not valid; the message says what to fix."""


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_SYMIL_TAGS = {"symil", "json"}
_SMT_TAGS = {"smt2", "smtlib", "smt", "smt-lib", "smtlib2", "lisp"}
_ASP_TAGS = {"asp", "lp", "clingo"}
_ASP_INCLUDE = re.compile(r"#include")  # clingo reads the named file while parsing: a caller's file read


def extract_formal(text: str) -> FormalTask | None:
    """The first fenced block holding formal input, or None when there is none.

    ``symil`` blocks must be valid SymIL; ``json`` blocks count only when they look like SymIL (a
    ``premises`` or ``conclusion`` key). ``lisp`` blocks count only with a ``(check-sat)``.
    """
    for match in _FENCE.finditer(text):
        tag, body = match.group(1).lower(), match.group(2).strip()
        if not body:
            continue
        if tag in _SYMIL_TAGS:
            task = _symil(body, explicit=tag == "symil")
            if task is not None:
                return task
        elif tag in _SMT_TAGS:
            if tag == "lisp" and "(check-sat" not in body:
                continue
            _check_smtlib(body)
            return SmtLibTask(source=body)
        elif tag in _ASP_TAGS:
            _check_asp(body)
            return AspTask(source=body)
    return None


_LONG_INT = re.compile(r"\d{10,}")
CLINGO_MAX_INT = 2**31 - 1


def _check_asp(body: str) -> None:
    if _ASP_INCLUDE.search(body):
        raise FormalInputError("ASP input may not use #include: put the program's rules in the block itself")
    for literal in _LONG_INT.findall(body):  # clingo's integers are 32-bit: 3000000000 became -1294967296
        if int(literal) > CLINGO_MAX_INT:
            raise FormalInputError(f"ASP integers are 32-bit in clingo: {literal} is over {CLINGO_MAX_INT}")


_CHECK_SAT = re.compile(r"\(\s*check-sat\s*\)")


def _check_smtlib(body: str) -> None:
    """Z3 reads a script's declarations and assertions and the verdict is for all of them: refuse
    the scripts whose own answer would be another (assumptions, or assertions after the check)."""
    if re.search(r"\(\s*check-sat-assuming\b", body):
        raise FormalInputError("SMT-LIB input may not use check-sat-assuming: assert the assumptions instead")
    checks = _CHECK_SAT.findall(body)
    if len(checks) > 1:
        raise FormalInputError("SMT-LIB input may hold one (check-sat), after every assertion")
    if checks and re.search(r"\(\s*assert\b", body[body.rindex(checks[-1]) :]):
        raise FormalInputError("SMT-LIB input has an assert after its (check-sat): put every assertion before it")


def _symil(body: str, explicit: bool) -> Problem | None:
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        if not explicit:
            return None
        raise FormalInputError(f"SymIL block is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # json recurses per level of nesting: thousands of [[[... reach the limit
        raise FormalInputError("SymIL block is nested too deeply; see docs/symil.md for the schema") from exc
    if not explicit and not (isinstance(data, dict) and ({"premises", "conclusion"} & data.keys())):
        return None
    return parse_symil(data)


def parse_symil(data: object) -> Problem:
    """Validate decoded JSON as SymIL; raises FormalInputError naming each problem and where it is."""
    try:
        return Problem.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'problem'}: {err['msg']}" for err in exc.errors()[:5]
        )
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise FormalInputError(f"invalid SymIL: {problems}{more}. See docs/symil.md for the schema.") from exc
