"""The Tier 1 benchmark's two problems and the chat request that carries each.

A small integer linear equation in SMT-LIB 2 (Z3, model read back) and 3-colouring a 4-cycle in
ASP (Clingo, all models), each sent as fenced formal input.
"""

from __future__ import annotations

import json

from evolved_runtime.solvers.backends import Backend, applicable_backends
from evolved_runtime.symil.formal import FormalTask, extract_formal

SMT = """(declare-const x Int)
(assert (= (+ (* 3 x) 5) 20))
(check-sat)
(get-model)"""
ASP = """node(1..4). edge(1,2). edge(2,3). edge(3,4). edge(4,1).
col(r). col(g). col(b).
1 { color(N,C) : col(C) } 1 :- node(N).
:- edge(A,B), color(A,C), color(B,C)."""
PROBLEMS = {"z3": f"```smt2\n{SMT}\n```", "clingo": f"```asp\n{ASP}\n```"}


def body(kind: str) -> str:
    """The chat request (JSON) that asks problem ``kind``."""
    return json.dumps({"model": "bench", "messages": [{"role": "user", "content": PROBLEMS[kind]}]})


def formal_call(content: str) -> tuple[FormalTask, Backend]:
    """The formal task in a message's content and the solver a Tier 1 request gives it (the first
    that applies)."""
    task = extract_formal(content)
    if task is None:
        raise ValueError("the benchmark's servers answer formal input only")
    return task, applicable_backends(task)[0]
