"""Controlled English -> SymIL problem (no LLM). See docs/symil.md for the accepted grammar.

``parse(text, level)`` returns None unless every sentence is in the grammar and the text asks
something (a question, a "therefore" conclusion, "solve ...", "what is x", "is this consistent").
Level 1 is the strict grammar; level 2 also drops filler ("we know that", "suppose"), reads number
words and accepts more question phrasings.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from evolved_runtime.english import arithmetic, parity, statements
from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.individuals import WORLD
from evolved_runtime.english.inflection import is_name_word, join_labels, join_names, strip_titles
from evolved_runtime.english.modals import modals
from evolved_runtime.english.properties import Context, third_person
from evolved_runtime.english.soundness import check_connected, obligation_axioms, reading_dependent
from evolved_runtime.english.words import RESERVED, is_plural, singular, words_to_numbers
from evolved_runtime.symil.analysis import SymILError
from evolved_runtime.symil.models import And, Atom, Compare, Formula, Not, NumType, Problem, Wording

_CONCLUSION = re.compile(
    r"^(?:therefore|so|thus|hence|consequently|it follows that|conclusion|we conclude that)\b[,:]?\s*(?:that\s+)?"
)
_RELAXED_CONCLUSION = re.compile(
    r"^(?:can we (?:conclude|infer|deduce)|does it (?:follow|mean)|must it be (?:true|the case)"
    r"|is it (?:necessarily )?(?:true|the case)|do we know|does this (?:mean|imply|show)|is it certain) that\s+"
)
_FILLER = re.compile(
    r"^(?:(?:it is (?:known|given|true) that|we know that|we are told that|suppose(?: that)?|assume(?: that)?"
    r"|given that|note that|also|furthermore|moreover|in addition|and|now|premises? ?\d*:?|facts?:?|question:?"
    r"|rules?:|statements?:|given:|known:|please|tell me|consider (?:this|the (?:following )?argument):?"
    r"|here is a puzzle:?|let'?s say(?: that)?|imagine(?: that)?),?\s+)+"
)
_HEADER = re.compile(r"(?:premises|facts|rules|statements|given|known|question)\s*:?")
_CONSISTENCY = re.compile(
    r"(?:is|are) (?:this|that|these|the (?:statements|premises|facts)|these (?:statements|facts|premises)|"
    r"all of (?:this|these|them)) (?:consistent|possible|satisfiable|compatible)"
    r"|can (?:all of )?(?:this|these|them|these statements|the statements) (?:all )?be true(?: together| at once)?"
)
_VALIDITY = re.compile(
    r"(?:is|was) (?:the|this|that) (?:conclusion|argument|reasoning|inference|deduction|syllogism) "
    r"(?:logically )?(?:valid|correct|sound|right)(?: or not)?|is (?:this|that|it) (?:logically )?(?:valid|correct)"
    r"|does (?:the|this|that) conclusion (?:logically )?follow(?: from (?:the|these) premises)?|is (?:this|that) so"
    r"|(?:is it )?valid|(?:determine|decide|check|say) (?:whether|if) (?:the|this) (?:conclusion|argument) "
    r"(?:follows|is valid)"
)
_VALUE_QUESTION = re.compile(r"(?:what (?:is|are)|find|compute|calculate|determine)(?: the values? of)? (.+)")
_SOLVE = re.compile(
    r"(?:solve|find (?:an? |some )?(?:integers?|whole numbers?|real numbers?|numbers?|values?|solutions?)?"
    r"\s*(?:(?:for )?[a-z](?:(?:,| and) [a-z])*)?\s*(?:such that|where|with|if|so that|satisfying)"
    r"|is there an? (integer|number|real number|value|solution)?\s*[a-z]? ?(?:such that|with|where))\s*(?:for [a-z](?:(?:,| and) [a-z])*)?[:,]?\s*(.+)"
)


@dataclass
class _Draft:
    context: Context
    premises: list[Formula] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    conclusion: Formula | None = None
    asked: str | None = None
    asks_model: bool = False
    asks_validity: bool = False
    integers: set[str] = field(default_factory=set)
    helpers: parity.Helpers = field(default_factory=parity.Helpers)

    def add(self, formula: Formula, source: str) -> None:
        self.premises.append(formula)
        self.sources.append(source)


def parse(text: str, level: int = 1) -> Problem | None:
    """The SymIL problem for ``text`` at ``level`` (1 strict, 2 relaxed), or None."""
    try:
        draft = _draft(text, relaxed=level >= 2)
        return _problem(draft) if draft is not None else None
    except (ParseError, SymILError, ValidationError, RecursionError):
        return None


def sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, is_question) pairs; decimals like ``2.5`` do not split."""
    text = text.replace("\u2264", "<=").replace("\u2265", ">=").replace("\u2260", "!=").replace("\u2212", "-")
    text = re.sub(r"[\u2018\u2019`]", "'", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"\b(Mr|Mrs|Ms|Dr|Prof|St)\.(?=\s+[A-Z])", r"\1", text)  # "Ms. Johnson" is one name
    out: list[tuple[str, bool]] = []
    for chunk in re.split(r"(?<=[?!])\s*|(?<!\d)\.(?!\d)|\.(?=\s|$)|\n+|;", text):
        if chunk is None:
            continue
        stripped = chunk.strip().strip("\"'").strip()
        if not stripped or re.fullmatch(r"\(?\d+[.)]?|[a-z][.)]", stripped):  # list numbering
            continue
        question = stripped.endswith("?")
        out.append((stripped.rstrip("?!. ").strip(), question))
    return out


def _normalise(sentence: str, relaxed: bool) -> str:
    text = join_names(strip_titles(join_labels(sentence))).lower()
    text = text.replace("it's ", "it is ")
    text = re.sub(r"^\s*(?:\d+[.)]|[-*\u2022])\s+", "", text)
    text = text.replace("can't", "can not").replace("cannot", "can not").replace("won't", "will not")
    text = re.sub(r"^will (\w+) ", r"does \1 ", text)  # the future is read as the present
    text = re.sub(r"\bwill not\b", "does not", text)
    text = re.sub(r"(\w) will (?!be\b)(\w+)", lambda m: f"{m.group(1)} {third_person(m.group(2))}", text)
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    text = re.sub(r"[\"!]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = modals(text)
    text = re.sub(r"\bone (needs?|must|has|have|can|may)\b", r"a person \1", text)  # "one" the pronoun
    if relaxed:
        text = _FILLER.sub("", text)
        text = words_to_numbers(text)
        text = re.sub(r"\b(?:definitely|certainly|necessarily|really|actually|indeed|surely|also)\s+", "", text)
    return text


def _draft(text: str, relaxed: bool) -> _Draft | None:
    parts = sentences(text)
    if not parts:
        return None
    normalised = [(_normalise(s, relaxed), q, s) for s, q in parts]
    names = _names(t for t, _, _ in normalised) | _capitalised(t for t, _ in parts)
    draft = _Draft(Context(names, _nouns(t for t, _, _ in normalised)))
    for sentence, is_question, source in normalised:
        if not sentence:
            continue
        if is_question:
            _question(sentence, draft, relaxed)
            draft.asked = draft.asked or (source if draft.conclusion is not None else None)
            continue
        if relaxed and (_HEADER.fullmatch(sentence) or _VALIDITY.fullmatch(sentence)):
            draft.asks_validity = draft.asks_validity or bool(_VALIDITY.fullmatch(sentence))
            continue  # "Premises:" on a line of its own; "Determine whether the conclusion follows."
        match = _CONCLUSION.match(sentence)
        if match:
            _set_conclusion(draft, _claim(sentence[match.end() :], draft, conclusion=True))
            draft.asked = source
            continue
        solve = _SOLVE.fullmatch(sentence)
        if solve:
            if solve.group(1) == "integer" or re.match(r"find (?:an? )?(?:integers?|whole)", sentence):
                draft.integers.update(re.findall(r"\b[a-z]\b", sentence[: solve.start(2)]))
            _add_constraints(draft, solve.group(2), source)
            draft.asks_model = True
            continue
        integers = arithmetic.declared_integers(sentence)
        if integers is not None:
            draft.integers.update(integers)
            continue
        if relaxed and (_CONSISTENCY.fullmatch(sentence) or re.fullmatch(r"solve (?:it|this|for \w+)", sentence)):
            draft.asks_model = True
            continue
        draft.add(_claim(sentence, draft), source)
    if draft.asks_validity and draft.conclusion is None:
        return None  # "is this valid?" without a conclusion to check
    if (draft.conclusion is None) == (not draft.asks_model):
        return None  # nothing asked, or both a conclusion and a request for a model
    if draft.conclusion is not None and not draft.premises:
        return None  # a bare question asks for world knowledge, not for what follows
    if draft.helpers.integers and _fractional([*draft.premises, draft.conclusion]):
        raise ParseError("even/odd/divisible with non-integer numbers")
    return draft


def _fractional(node: object) -> bool:
    """Whether a number that is not a whole number occurs (2.5, or x / 2 read as 0.5 * x)."""
    if isinstance(node, float):
        return not node.is_integer()
    if isinstance(node, BaseModel):
        return any(_fractional(getattr(node, name)) for name in type(node).model_fields)
    if isinstance(node, list):
        return any(_fractional(item) for item in node)
    return False


_MODALS = ("can", "may", "must")


def _nouns(texts: Iterable[str]) -> set[str]:
    """Singular forms of the word after a quantifier ("some painters") and the two after an article ("a tall man")."""
    nouns: set[str] = set()
    for text in texts:
        for match in re.finditer(
            r"\b(?:(?:a|an|the) (\w+)(?: (\w+))?|(?:every|each|all|some|no|any|only) (\w+))", text
        ):
            nouns.update(singular(w) for w in match.groups() if w is not None and w not in RESERVED)
    return nouns


def _capitalised(texts: Iterable[str]) -> set[str]:
    """Capitalised words inside a sentence ("Does Maria ...", "John Smith"): names of individuals."""
    names: set[str] = set()
    for text in texts:
        words = join_names(strip_titles(text)).split()
        for before, word in itertools.pairwise(words):
            word = word.strip(",;'\"")
            if before.endswith(":") or not is_name_word(word):
                continue  # "Rule: Members may ...": a capital after a colon starts a sentence
            if word.lower() not in RESERVED:
                names.add(word.lower())
    return names


def _names(texts: Iterable[str]) -> set[str]:
    """Words used as singular subjects ("tom is", "can tom", "the printer is"): individuals, not classes."""
    names: set[str] = set()
    for text in texts:
        found = [
            (m.group(2), m.group(1))
            for m in re.finditer(r"(?:^|, )(?:the )?([a-z][a-z0-9_]*) (is|was|can|does|may|must|has|did)\b", text)
        ]
        found += [
            (m.group(1), m.group(2)) for m in re.finditer(r"^(is|can|does|may|must|did|was) (?:the )?(\w+) ", text)
        ]
        for verb, word in found:
            if (word not in RESERVED or len(word) == 1) and (verb not in _MODALS or not is_plural(word)):
                names.add(word)
    return names


def _question(sentence: str, draft: _Draft, relaxed: bool) -> None:
    if _VALIDITY.fullmatch(sentence):
        draft.asks_validity = True
        return
    if relaxed:
        match = _RELAXED_CONCLUSION.match(sentence)
        if match:
            _set_conclusion(draft, _claim(sentence[match.end() :], draft, conclusion=True))
            return
    if _CONSISTENCY.fullmatch(sentence):
        draft.asks_model = True
        return
    solve = _SOLVE.fullmatch(sentence)
    if solve:
        if solve.group(1) == "integer":
            draft.integers.update(re.findall(r"\b[a-z]\b", sentence[: solve.start(2)]))
        _add_constraints(draft, solve.group(2), sentence)
        draft.asks_model = True
        return
    value = _VALUE_QUESTION.fullmatch(sentence)
    if value and re.fullmatch(r"[a-z][a-z0-9_]*(?:(?:,| and|, and) [a-z][a-z0-9_]*)*", value.group(1)):
        draft.asks_model = True
        return
    _set_conclusion(draft, _question_claim(sentence, draft))


def _question_claim(sentence: str, draft: _Draft) -> Formula:
    match = re.fullmatch(r"is (.+)", sentence)
    if match:
        claim = parity.conclusion(match.group(1).replace(" ", " is ", 1), draft.helpers)
        if claim is not None:
            return claim
    numeric = _numeric_question(_without_the(sentence)) if arithmetic.looks_numeric(sentence) else None
    if numeric is not None:
        return numeric
    claim = statements.question(sentence, draft.context)
    if claim is None:
        raise ParseError(f"question not in the grammar: {sentence!r}")
    return claim


def _numeric_question(sentence: str) -> Formula | None:
    """``is y greater than z`` / ``is x equal to 5`` / ``does x equal 5`` / ``is alice taller than bob``."""
    match = re.fullmatch(r"does (.+?) equal (.+)", sentence)
    if match:
        return arithmetic.parse_worded_comparison(f"{match.group(1)} equals {match.group(2)}")
    match = re.fullmatch(r"is (.+)", sentence)
    if not match or not arithmetic.looks_numeric(match.group(1)):
        return None
    if re.search(r"[<>=]", match.group(1)):
        return arithmetic.parse_relation_chain(match.group(1))
    words = match.group(1).split()
    readings: list[Formula] = []
    for cut in range(1, len(words)):
        try:
            reading = arithmetic.parse_worded_comparison(" ".join([*words[:cut], "is", *words[cut:]]))
        except ParseError:
            continue
        if reading not in readings:
            readings.append(reading)
    if len(readings) > 1:  # "is x + y greater than 7": "x | + y greater than 7" must not be a reading
        raise ParseError(f"more than one reading of the question: {sentence!r}")
    return readings[0] if readings else None


def _without_the(sentence: str) -> str:
    """``the price is 20`` -> ``price is 20``: a number's name may take "the"."""
    return re.sub(r"(?:^|(?<= ))the (?!sum|difference|product)(?=[a-z])", "", sentence)


def _claim(sentence: str, draft: _Draft, conclusion: bool = False) -> Formula:
    numbers = parity.conclusion(sentence, draft.helpers) if conclusion else parity.premise(sentence, draft.helpers)
    if numbers is not None:
        return numbers
    if arithmetic.looks_numeric(sentence):
        try:
            return _comparisons(_without_the(sentence))
        except ParseError:
            connective = re.match(r"(?:if|when|whenever|either|neither|unless|not|it is not the case) ", sentence)
            if re.search(r"[<>=]|(?<![a-z_])\d", sentence) and not (connective or " if " in sentence):
                raise
    return statements.statement(sentence, draft.context)


def _comparisons(sentence: str) -> Formula:
    """One comparison, or several joined by "and" ("a is 5 and b is 7")."""
    try:
        return arithmetic.parse_worded_comparison(sentence)
    except ParseError:
        parts = re.split(r",? and (?=[a-z]\w* (?:is|=|equals)\b)|, (?=[a-z]\w* (?:is\b|equals\b|[=<>]))", sentence)
        if len(parts) == 1:
            raise
        return And(args=[arithmetic.parse_worded_comparison(part) for part in parts])


def _set_conclusion(draft: _Draft, claim: Formula) -> None:
    if draft.conclusion is not None:
        raise ParseError("more than one conclusion or question")
    draft.conclusion = claim


def _add_constraints(draft: _Draft, text: str, source: str) -> None:
    for part in re.split(r",\s*(?:and\s+)?|\s+and\s+", text):
        part = part.strip()
        if part:
            draft.add(arithmetic.parse_relation_chain(part), source)


def _problem(draft: _Draft) -> Problem:
    premises = list(draft.premises)
    sources = list(draft.sources)
    domain = "open"
    on_facts = {tuple(p.args) for p in premises if isinstance(p, Atom) and p.pred == "on" and len(p.args) == 2}
    constants: list[str] = []
    if on_facts:
        # a scene: the named things are all the things, and the "on" facts given are all of them
        probe = Problem(premises=premises, conclusion=draft.conclusion)
        constants = probe.symbols.constants
        domain = "closed"
        absent = [Not(arg=Atom(pred="on", args=[a, b])) for a in constants for b in constants if (a, b) not in on_facts]
        premises += absent
        sources += [""] * len(absent)
    axioms = obligation_axioms(premises, draft.conclusion)
    premises += axioms
    sources += [""] * len(axioms)
    integers = draft.integers | draft.helpers.integers
    variables: dict[str, NumType] = {}
    probe = Problem(premises=premises, conclusion=draft.conclusion, domain=domain, constants=constants)
    for name in probe.symbols.variables:
        variables[name] = "int" if name in integers else "real"
    if draft.asks_model and not probe.symbols.variables and not any(not isinstance(p, Compare) for p in premises):
        raise ParseError("nothing to solve")
    check_connected(probe, ignore=draft.helpers.aux | {WORLD})
    ambiguous = reading_dependent(probe, draft.context.exceptions)
    if ambiguous is not None:
        raise ParseError(f"the answer depends on how the text is read: {ambiguous}")
    context = draft.context
    wording = Wording(
        premises=sources,
        conclusion=draft.asked,
        phrases={k: v for k, v in context.phrases.items() if k in probe.symbols.predicates},
        names={k: _spelling(k, v, sources) for k, v in context.spelling.items() if k in probe.symbols.constants}
        | _attributes(variables, sources),
    )
    return Problem(
        premises=premises,
        conclusion=draft.conclusion,
        domain=domain,
        constants=constants,
        variables=variables,
        wording=wording,
    )


def _spelling(name: str, said: str, sources: list[str]) -> str:
    """How the text wrote a name ("Michael", "door C"); the lower-case form when it is not found."""
    pattern = r"\b(?:the )?" + r"[ _]".join(re.escape(part) for part in said.split("_")) + r"\b"
    for source in sources:
        match = re.search(pattern, source, flags=re.IGNORECASE)
        if match:
            return re.sub(r"^The ", "the ", match.group(0))
    return said


def _attributes(variables: dict[str, NumType], sources: list[str]) -> dict[str, str]:
    """``height_alice`` -> "the height of Alice": the numbers comparatives introduce."""
    attributes = {attribute for attribute, _ in arithmetic.COMPARATIVES.values()}
    said: dict[str, str] = {}
    for name in variables:
        attribute, _, owner = name.partition("_")
        if attribute in attributes and owner:
            said[name] = f"the {attribute} of {_spelling(owner, owner, sources)}"
    return said
