"""SymIL: the project's JSON intermediate language (pydantic models).

A problem holds first-order formulas over individuals (unary and binary predicates, quantifiers)
and linear arithmetic over integer and real variables. With a ``conclusion`` it is an entailment
question (VALID / NOT_VALID); without one it is a constraint problem (SAT with a model / UNSAT).
Semantics are classical: ``domain="open"`` means any non-empty set of individuals (the named
constants need not be all of them); ``domain="closed"`` means the constants are exactly the
individuals.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictFloat, StrictInt, model_validator

Verdict = Literal["VALID", "NOT_VALID", "UNKNOWN", "SAT", "UNSAT"]
Relation = Literal["=", "!=", "<", "<=", ">", ">="]
NumType = Literal["int", "real"]

_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
Name = Annotated[str, Field(pattern=_NAME, max_length=64)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arith(_Node):
    """Arithmetic term: ``+`` (sum), ``-`` (first minus the rest; one argument negates), ``*`` (product;
    at most one factor may contain a variable, so constraints stay linear)."""

    op: Literal["+", "-", "*"]
    args: list[Term] = Field(min_length=1)


Term = StrictInt | StrictFloat | Name | Arith
"""A number, the name of a numeric variable, or an arithmetic term."""


class Atom(_Node):
    """``pred(args)``: args name constants or variables bound by an enclosing quantifier."""

    op: Literal["atom"] = "atom"
    pred: Name
    args: list[Name] = Field(min_length=1, max_length=2)


class Not(_Node):
    op: Literal["not"] = "not"
    arg: Formula


class And(_Node):
    op: Literal["and"] = "and"
    args: list[Formula] = Field(min_length=1)


class Or(_Node):
    op: Literal["or"] = "or"
    args: list[Formula] = Field(min_length=1)


class Implies(_Node):
    op: Literal["implies"] = "implies"
    left: Formula
    right: Formula


class Iff(_Node):
    op: Literal["iff"] = "iff"
    left: Formula
    right: Formula


class ForAll(_Node):
    """Universal quantifier over individuals."""

    op: Literal["forall"] = "forall"
    vars: list[Name] = Field(min_length=1)
    body: Formula


class Exists(_Node):
    """Existential quantifier over individuals."""

    op: Literal["exists"] = "exists"
    vars: list[Name] = Field(min_length=1)
    body: Formula


class Compare(_Node):
    """Linear comparison between numeric terms."""

    op: Relation
    left: Term
    right: Term


Formula = Annotated[
    Atom | Not | And | Or | Implies | Iff | ForAll | Exists | Compare,
    Field(discriminator="op"),
]


class Phrase(_Node):
    """A property in words, said of an individual: ``yes`` 'is a man', ``no`` 'is not a man'."""

    yes: str
    no: str


class Wording(_Node):
    """How the question was put in words, for the answer text only (the solvers ignore it)."""

    premises: list[str] = Field(
        default_factory=list,
        description="The sentence each premise came from, in premise order (empty for a premise the "
        "translation added, such as the absent 'on' facts of a scene).",
    )
    conclusion: str | None = Field(default=None, description="The sentence the conclusion came from.")
    phrases: dict[Name, Phrase] = Field(
        default_factory=dict, description="How to say a predicate of an individual ('is a man', 'trains daily')."
    )
    names: dict[Name, str] = Field(
        default_factory=dict, description="How the text says a constant ('Michael') or a number ('the age of Alice')."
    )


class Problem(_Node):
    """A SymIL problem: premises, an optional conclusion, and the symbols they use."""

    symil: Literal["1"] = "1"
    domain: Literal["open", "closed"] = "open"
    constants: list[Name] = Field(default_factory=list, description="Named individuals.")
    predicates: dict[Name, Literal[1, 2]] = Field(
        default_factory=dict, description="Predicate arities; inferred from atoms when left out."
    )
    variables: dict[Name, NumType] = Field(default_factory=dict, description="Numeric variables.")
    premises: list[Formula] = Field(default_factory=list)
    conclusion: Formula | None = Field(
        default=None, description="With a conclusion: entailment question; without: constraint problem."
    )
    wording: Wording | None = Field(default=None, description="Optional: the sentences, for explanations.")

    _symbols: Symbols | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_symbols(self) -> Problem:
        from evolved_runtime.symil.analysis import collect_symbols

        self._symbols = collect_symbols(self)
        if self.wording is not None and self.wording.premises and len(self.wording.premises) != len(self.premises):
            raise ValueError("wording.premises must give one sentence (or '') per premise")
        return self

    @property
    def symbols(self) -> Symbols:
        """Constants, predicate arities and numeric variable types, declared or inferred."""
        if self._symbols is None:  # pragma: no cover - set by the validator
            from evolved_runtime.symil.analysis import collect_symbols

            self._symbols = collect_symbols(self)
        return self._symbols

    @property
    def is_entailment(self) -> bool:
        return self.conclusion is not None


class Symbols(BaseModel):
    """Every symbol a problem uses, in first-use order."""

    constants: list[str]
    predicates: dict[str, int]
    variables: dict[str, NumType]


for _model in (Arith, Not, And, Or, Implies, Iff, ForAll, Exists, Compare, Phrase, Wording, Problem, Symbols):
    _model.model_rebuild()
