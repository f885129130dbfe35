"""Text helpers shared by keyword matching and the case tests.

`clean_keyword` is Glific's `string_clean`: a keyword matches only when the whole cleaned
message equals it, so punctuation, symbols (emoji included), separators (spaces) and control
characters are dropped and the rest lowercased. `strip` is the cases' "trim and lowercase";
`words` the cases' word split (whitespace, "," and ";").
"""

from __future__ import annotations

import re
import unicodedata

# Unicode general categories that `clean_keyword` drops: punctuation, symbols, separators,
# and "other" (controls, format characters such as zero-width joiners and variation
# selectors, unassigned, private use, surrogates).
_DROPPED = frozenset("PSZC")

_WORD_SPLIT = re.compile(r"[\s,;]+")


def clean_keyword(text: str) -> str:
    """Glific's string_clean: "Help!" -> "help", "h e l p" -> "help", "👍" -> ""."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] not in _DROPPED)
    return kept.lower()


def strip(text: str) -> str:
    """Trim surrounding whitespace and lowercase (the cases' "strip")."""
    return text.strip().lower()


def words(text: str) -> list[str]:
    """The lowercased words of `text`, split on whitespace, "," and ";", in order."""
    return [w for w in _WORD_SPLIT.split(text.lower()) if w]
