"""Text an organiser writes to registrants: kept as written, whatever the browser's line endings.

Browsers send textarea content with CRLF; text pasted from elsewhere may carry lone CR. The
body is normalised to LF once, when it is stored, so paragraphs (blank lines) and line breaks
survive into both the plain-text and the HTML email.
"""

from __future__ import annotations

import re

_BLANK_LINE = re.compile(r"\n[ \t]*\n+")
#: Openings that are already a greeting, in English and French: the email then adds none of its own.
_GREETING = re.compile(
    r"^\s*(hello|hi|hey|dear|greetings|good (morning|afternoon|evening)|bonjour|bonsoir|salut|"
    r"cher|chère|chers|chères|madame|monsieur|mesdames)\b", re.IGNORECASE)


def normalised(text: str | None) -> str:
    """LF line endings, no trailing spaces on lines, no blank lines at either end."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def paragraphs(text: str | None) -> list[list[str]]:
    """Paragraphs (split at blank lines), each a list of its lines."""
    return [block.split("\n") for block in _BLANK_LINE.split(normalised(text)) if block.strip()]


def starts_with_greeting(text: str | None) -> bool:
    return bool(_GREETING.match(normalised(text)))
