"""Rewrite the many ways of saying ability, permission and obligation to ``can``/``may``/``must``.

Applied to lower-case sentences before parsing: "is allowed to" -> "may", "is prohibited from" ->
"may not", "has to" / "is required to" -> "must", "does not have to" -> "need not", "is able to" ->
"can". ``properties.verb_phrase`` then reads "may V" (allowed), "must V" (required) and "need not V".
"""

from __future__ import annotations

import re

REWRITES: list[tuple[str, str]] = [
    # questions first: "does ivan have to pay" -> "must ivan pay"
    (r"^(?:does|do) (.+?) (?:have|need) to\b", r"must \1"),
    (r"^(?:is|are) (.+?) (?:allowed|permitted|authori[sz]ed|entitled) to\b", r"may \1"),
    (r"^(?:is|are) (.+?) (?:required|obliged|obligated) to\b", r"must \1"),
    (r"^(?:is|are) (.+?) (?:forbidden|prohibited|banned) (?:to|from)\b", r"may \1 not"),
    (r"^(is|are) (.+?) able to\b", r"can \2"),
    (r"\b(?:is|are) (?:not able|unable) to\b", "can not"),
    (r"\b(?:is|are) able to\b", "can"),
    (r"\b(?:does|do) not (?:have|need) to\b|\b(?:is|are) not (?:required|obliged|obligated) to\b|\bneeds? not\b",
     "need not"),
    (r"\b(?:is|are) (?:not (?:allowed|permitted)|forbidden|prohibited|banned) (?:to|from)\b", "may not"),
    (r"\b(?:is|are) (?:allowed|permitted|authori[sz]ed|entitled) to\b", "may"),
    (r"\b(?:has|have) to\b|\b(?:is|are) (?:required|obliged|obligated) to\b|\bneeds? to\b", "must"),
]  # fmt: skip


def modals(text: str) -> str:
    for pattern, replacement in REWRITES:
        text = re.sub(pattern, replacement, text)
    return re.sub(r"\bmay not (\w+)ing\b", lambda m: f"may not {m.group(1)}", text)  # prohibited from parking
