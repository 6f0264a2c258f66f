"""What registrants ask for in the free-text "accessibility needs" field, in kinds an organiser
plans for (captions, interpretation…), read from keywords in English and French.

The field stays free text (people say it their own way); these kinds only sort it so the
dashboard can say "7 ask for captions" and the registrations list can filter on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_

from portal.models import Registration

#: kind → keywords (accent-free, lower case). A keyword of four letters or fewer must be a
#: whole word ("asl", not "Haslam"); longer ones are stems ("caption" finds "captioning").
KEYWORDS: dict[str, tuple[str, ...]] = {
    "captions": ("caption", "subtit", "sous-tit", "sous tit", "soustit", "cart", "transcri",
                 "closed caption"),
    "interpretation": ("interpret", "asl", "lsq", "sign language", "langue des signes",
                       "langage gestuel", "signing"),
    "screen_reader": ("screen reader", "screen-reader", "lecteur d'ecran", "lecteur d’ecran",
                      "jaws", "nvda", "voiceover", "braille"),
    "visual": ("large print", "gros caracteres", "contrast", "low vision", "basse vision",
               "malvoyan", "visually impaired", "blind", "aveugle"),
    "hearing": ("hearing", "deaf", "sourd", "malentend", "auditi"),
}
#: The words organisers read, in the order they are listed.
KIND_LABELS = {
    "captions": _l("captions"),
    "interpretation": _l("sign language or interpretation"),
    "screen_reader": _l("screen reader"),
    "visual": _l("low vision"),
    "hearing": _l("hearing"),
}
_SHORT = 4


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pattern(keyword: str) -> re.Pattern:
    if len(keyword) <= _SHORT:
        return re.compile(rf"\b{re.escape(keyword)}\b")
    return re.compile(re.escape(keyword))


_PATTERNS = {kind: [_pattern(k) for k in words] for kind, words in KEYWORDS.items()}


def kinds_in(text: str | None) -> list[str]:
    """The kinds of need a registrant's text mentions, in KIND_LABELS order."""
    if not text or not text.strip():
        return []
    folded = _folded(text)
    return [kind for kind in KIND_LABELS if any(p.search(folded) for p in _PATTERNS[kind])]


def count_kinds(texts) -> Counter:
    """How many texts mention each kind (a text naming two kinds counts for both)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(kinds_in(text))
    return counts


def sql_condition(kind: str):
    """A WHERE clause close to ``kinds_in`` for the registrations list's filter, run in SQL so the
    list stays paged there. Short keywords need a separator before them; SQL LIKE has no
    word boundary, and lower() leaves accents alone, hence the accent-free stems."""
    column = func.lower(func.coalesce(Registration.accessibility_needs, ""))
    clauses = []
    for keyword in KEYWORDS[kind]:
        if len(keyword) <= _SHORT:
            clauses += [column == keyword, column.like(f"{keyword} %"), column.like(f"{keyword},%")]
            clauses += [column.like(f"%{sep}{keyword}%") for sep in (" ", "(", "/", ",", "-")]
        else:
            clauses.append(column.like(f"%{keyword}%"))
    return or_(*clauses)
