"""Word-level tables for the controlled-English parser: plurals, reserved and unmodelled words, numbers, names."""

from __future__ import annotations

import re

IRREGULAR_PLURALS = {
    "men": "man",
    "women": "woman",
    "people": "person",
    "children": "child",
    "mice": "mouse",
    "geese": "goose",
    "feet": "foot",
    "teeth": "tooth",
    "oxen": "ox",
    "fish": "fish",
    "sheep": "sheep",
    "deer": "deer",
    "species": "species",
    "has": "have",
    "does": "do",
    "is": "be",
    "are": "be",
    "wolves": "wolf",
    "leaves": "leaf",
    "knives": "knife",
    "lives": "life",
    "wives": "wife",
    "halves": "half",
    "cacti": "cactus",
    "fungi": "fungus",
}
_KEEP_ENDINGS = ("ss", "us", "is", "ous", "ics", "ies")
"""Words with these endings are not plurals ("glass", "famous", "analysis"); "-ies" is handled first."""

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000,
}  # fmt: skip

RESERVED = frozenset(
    [
        "all",
        "some",
        "no",
        "every",
        "each",
        "any",
        "if",
        "then",
        "that",
        "who",
        "which",
        "whom",
        "what",
        "whose",
        "than",
        "there",
        "it",
        "its",
        "they",
        "them",
        "nothing",
        "something",
        "everything",
        "anything",
        "someone",
        "everyone",
        "anyone",
        "nobody",
        "somebody",
        "everybody",
        "noone",
        "not",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "can",
        "cannot",
        "does",
        "do",
        "did",
        "must",
        "therefore",
        "so",
        "thus",
        "hence",
        "and",
        "or",
        "nor",
        "either",
        "neither",
        "only",
        "none",
        "of",
        "the",
        "a",
        "an",
        "to",
        "for",
        "with",
        "such",
        "as",
        "at",
        "least",
        "most",
        "more",
        "less",
        "fewer",
        "greater",
        "equal",
        "equals",
        "true",
        "false",
        "follow",
        "follows",
    ]
)

_UNMODELLED_WORDS = """most many few several majority minority usually often sometimes rarely seldom never hardly barely scarcely
    probably possibly perhaps maybe likely unlikely might may could would should ought almost nearly mostly
    generally typically normally except unless but although though because since until without while
    whenever before after yet still already again only just even also too either neither nor anymore
    longer formerly previously once sometime i me we us you he she him they them mine ours
    yours theirs hers this these those who whom whose what which where why how"""
UNMODELLED = frozenset(_UNMODELLED_WORDS.split()) | frozenset(NUMBER_WORDS) | {"half", "dozen", "once", "twice"}
"""Words that change a sentence's meaning in ways the grammar does not model: a noun or verb phrase
holding one makes the sentence untranslatable, instead of becoming part of a predicate's name."""


def singular(word: str) -> str:
    """Singular noun / base verb form: cats -> cat, flies -> fly, boxes -> box, men -> man."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return word[:-2]
    if word.endswith(_KEEP_ENDINGS):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def is_plural(word: str) -> bool:
    return singular(word) != word or word in ("fish", "sheep", "deer", "people")


_UNSAFE = re.compile(r"[^a-z0-9]+")


def symbol(text: str) -> str | None:
    """A SymIL name for a phrase ("black cat" -> "black_cat"), or None if nothing usable remains."""
    name = _UNSAFE.sub("_", text.lower()).strip("_")
    if not name:
        return None
    if not name[0].isalpha():
        name = "n_" + name
    return name[:64]


def number(token: str) -> int | float | None:
    """A numeric literal: digits (``-2``, ``3.5``) or, when given, a number word."""
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return None


def words_to_numbers(text: str) -> str:
    """Replace simple number words ("twenty five" -> "25")."""

    def repl(match: re.Match[str]) -> str:
        parts = match.group(0).replace("-", " ").split()
        total = 0
        current = 0
        for part in parts:
            value = NUMBER_WORDS[part]
            if value in (100, 1000):
                current = max(current, 1) * value
                if value == 1000:
                    total += current
                    current = 0
            else:
                current += value
        return str(total + current)

    names = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    pattern = rf"\b(?:{names})(?:[ -](?:{names}))*\b"
    return re.sub(pattern, repl, text)
