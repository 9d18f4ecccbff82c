"""SymIL: the intermediate language (models), its compilers to Z3 and Clingo, and answer text.

Solver modules (``to_z3``, ``to_asp``) and ``schema`` are not imported here; import them where needed.
"""

from evolved_runtime.symil.analysis import SymILError
from evolved_runtime.symil.explain import explain
from evolved_runtime.symil.formal import (
    AspTask,
    FormalInputError,
    FormalTask,
    SmtLibTask,
    extract_formal,
    parse_symil,
)
from evolved_runtime.symil.models import (
    And,
    Arith,
    Atom,
    Compare,
    Exists,
    ForAll,
    Formula,
    Iff,
    Implies,
    Not,
    Or,
    Problem,
    Symbols,
    Term,
    Verdict,
)

__all__ = [
    "And",
    "Arith",
    "AspTask",
    "Atom",
    "Compare",
    "Exists",
    "ForAll",
    "FormalInputError",
    "FormalTask",
    "Formula",
    "Iff",
    "Implies",
    "Not",
    "Or",
    "Problem",
    "SmtLibTask",
    "SymILError",
    "Symbols",
    "Term",
    "Verdict",
    "explain",
    "extract_formal",
    "parse_symil",
]
