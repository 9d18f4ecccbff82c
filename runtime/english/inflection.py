"""A small rule table for word forms: verb inflection, noun plurals, possessives, titles.

``stem`` maps every inflected form of a word to one key (``train``/``trains``/``trained``/``training``
-> ``train``; ``practice``/``practices`` -> ``practic``), so predicates built from verb phrases agree.
The table errs on the side of *not* merging two words: a missed merge only makes a question
unanswerable (the conclusion no longer connects to the premises), a wrong merge could give a
wrong verdict. No library: the rules are few, offline and tested one by one.
"""

from __future__ import annotations

import re

IRREGULAR = {
    # past tense and participles
    "went": "go", "gone": "go", "had": "have", "has": "have", "did": "do", "done": "do", "does": "do",
    "made": "make", "ate": "eat", "eaten": "eat", "ran": "run", "took": "take", "taken": "take",
    "got": "get", "gave": "give", "given": "give", "saw": "see", "seen": "see", "came": "come",
    "knew": "know", "known": "know", "wrote": "write", "written": "write", "drove": "drive",
    "driven": "drive", "flew": "fly", "flown": "fly", "swam": "swim", "sang": "sing", "sung": "sing",
    "began": "begin", "begun": "begin", "bought": "buy", "brought": "bring", "thought": "think",
    "taught": "teach", "caught": "catch", "sold": "sell", "told": "tell", "found": "find",
    "held": "hold", "kept": "keep", "left": "leave", "lost": "lose", "met": "meet", "paid": "pay",
    "said": "say", "sent": "send", "spent": "spend", "stood": "stand", "won": "win", "wore": "wear",
    "broke": "break", "broken": "break", "chose": "choose", "chosen": "choose", "fell": "fall",
    "felt": "feel", "forgot": "forget", "grew": "grow", "grown": "grow", "hid": "hide", "led": "lead",
    "rode": "ride", "slept": "sleep", "spoke": "speak", "spoken": "speak", "stole": "steal",
    "threw": "throw", "woke": "wake", "built": "build", "sat": "sit", "fed": "feed", "fought": "fight",
    "heard": "hear", "meant": "mean", "sought": "seek", "drank": "drink", "drunk": "drink",
    "studies": "study", "studied": "study",
    # plurals
    "men": "man", "women": "woman", "people": "person", "children": "child", "mice": "mouse",
    "geese": "goose", "feet": "foot", "teeth": "tooth", "oxen": "ox", "wolves": "wolf",
    "leaves": "leaf", "knives": "knife", "lives": "life", "wives": "wife", "halves": "half",
    "cacti": "cactus", "fungi": "fungus", "shelves": "shelf",
}  # fmt: skip

_KEEP = ("ss", "us", "is", "ous", "ics", "ness")
"""Endings that are not an inflection ("glass", "famous", "analysis", "physics")."""

_UNCHANGED = frozenset({"fish", "sheep", "deer", "species", "news", "series", "bus", "gas", "yes", "this", "always"})

POSSESSIVES = frozenset({"his", "her", "their", "its", "my", "our", "your", "whose"})
ARTICLES = frozenset({"a", "an", "the"})
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Professor", "Sir", "Madam", "Mx", "Mister")


def stem(word: str) -> str:
    """One key for all inflected forms of ``word`` (see the module docstring)."""
    word = word.lower()
    if word in IRREGULAR:
        word = IRREGULAR[word]
    elif word in _UNCHANGED or len(word) <= 3:
        return word
    elif word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5 and re.search(r"[aeiouy]", word[:-3]):
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) > 4 and not word.endswith("eed"):
        word = _undouble(word[:-2])
    elif word.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        word = word[:-2]
    elif word.endswith(_KEEP):
        return word
    elif word.endswith("s"):
        word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _undouble(word: str) -> str:
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


def content_words(words: list[str]) -> list[str]:
    """Drop articles and possessive pronouns: "practices his instrument" -> practices instrument."""
    return [w for w in words if w not in ARTICLES and w not in POSSESSIVES]


def strip_titles(text: str) -> str:
    """``Ms. Johnson`` / ``Dr Smith`` -> ``Johnson`` / ``Smith`` (before sentences are split at dots)."""
    titles = "|".join(TITLES)
    return re.sub(rf"\b(?:{titles})\b\.?\s+(?=[A-Z])", "", text)


_JOINABLE = re.compile(r"\b([A-Za-z][a-z]+) ([A-Z])\b")
_FUNCTION_WORDS = (
    "all some no every each any is are was were on of than the a an and or if then not to by with that "
    "from at in under over above below between so therefore thus hence if unless when can must may does do "
    "equals equal plus minus times suppose assume know given implies entails either neither nor both but "
    "whenever while because since until before after also only press push"
)
_NOT_A_NOUN = frozenset(_FUNCTION_WORDS.split())


def join_labels(text: str) -> str:
    """``door C`` -> ``door_C``: a singular noun followed by a capital letter names one thing."""

    def repl(match: re.Match[str]) -> str:
        if match.group(1).lower() in _NOT_A_NOUN or match.group(1).endswith(("s", "ing", "ed")):
            return match.group(0)
        return f"{match.group(1)}_{match.group(2)}"

    return _JOINABLE.sub(repl, text)


_CAPITALISED_FUNCTION_WORDS = frozenset(w.capitalize() for w in _NOT_A_NOUN) | {
    "Therefore", "Question", "Premise", "Conclusion", "It", "We", "You", "They", "He", "She", "Who", "What", "Why",
    "How", "Which", "Where", "Find", "Solve", "Let", "Has", "Have", "Did", "Was", "Were", "Everyone", "Nobody",
    "Everything", "Nothing", "Someone", "Something", "None", "Whoever", "Note", "Given", "Suppose", "Fact",
    "Will", "Shall", "Would", "Could", "Should", "Might", "Am", "Anyone", "Everybody", "Somebody",
}  # fmt: skip


def is_name_word(word: str) -> bool:
    """A capitalised word that is no function word ("Maria", "John_Smith"; not "May", "Does")."""
    return bool(re.fullmatch(r"[A-Z][a-z]+(?:_[A-Z][a-z]+)*", word)) and word not in _CAPITALISED_FUNCTION_WORDS


def join_names(text: str) -> str:
    """``John Smith`` / ``New York`` -> ``John_Smith``: two capitalised words that start no sentence pattern."""
    words = text.split(" ")
    out: list[str] = []
    for word in words:
        if out and is_name_word(out[-1]) and is_name_word(word):
            out[-1] = f"{out[-1]}_{word}"
        else:
            out.append(word)
    return " ".join(out)
