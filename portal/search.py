"""How text is compared when people search: accents, case and spacing ignored.

"Quebec" finds "Québec", "zoe" finds "Zoë", "STRASSE" finds "Straße". The same folding is
applied to what is stored and to what is typed, in Python, so SQLite and PostgreSQL give
identical results (neither database is asked to understand accents: PostgreSQL's
``unaccent`` is an optional extension with its own rules, SQLite has none).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: Longest query kept (the search boxes say so with maxlength).
MAX_QUERY = 200
#: A query is at most this many words (more would only make the SQL longer, not better).
MAX_WORDS = 8


def clean_query(text: str | None) -> str:
    """A search box's text as typed, control characters (PostgreSQL refuses NUL, a tab splits
    words) turned into spaces, at most ``MAX_QUERY`` long: safe to query with and to show back."""
    return "".join(c if c.isprintable() else " " for c in (text or "")).strip()[:MAX_QUERY]


def folded(text: str | None) -> str:
    """``text`` without accents, case-folded, with single spaces: the comparable form."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    # casefold() can produce new combining marks ("İ" → "i̇"); NFKC puts the rest back together.
    return " ".join(unicodedata.normalize("NFKC", bare).split())


def query_words(query: str | None) -> list[str]:
    """The folded words of a query; every one must be found (in any order)."""
    return folded(query).split()[:MAX_WORDS]


def searchable_text(parts: Iterable[str | None]) -> str:
    """The stored, folded text a record is searched in: its parts, folded, one space apart."""
    return " ".join(f for f in (folded(p) for p in parts) if f)


def matches(words: list[str], parts: Iterable[str | None]) -> bool:
    """Whether every word of a query appears in ``parts`` (for data already in memory)."""
    haystack = searchable_text(parts)
    return all(word in haystack for word in words)
