"""Punctuation the templates add around translated words, written the reader's way.

French (Canadian usage, Office québécois de la langue française): a no-break space (U+00A0)
before a colon and inside « »; a narrow no-break space (U+202F) before ; ? and !. Those inside
translated sentences live in the catalogue; this module is for the colon a template puts
between a label and what follows ("Full name: enter your name"), which must neither lose
its space in French nor double a label's own punctuation ("webinaire ? :").
"""

from __future__ import annotations

from flask_babel import gettext

#: A label ending with one of these already ends its phrase: no colon after it.
ENDS_A_PHRASE = (".", "?", "!", ":", "…", ";")


def label_and_text(label, text) -> str:
    """``"Label: text"`` in the current language (``"Libellé : texte"`` in French)."""
    label, text = str(label).rstrip(), str(text)
    if label.endswith(ENDS_A_PHRASE):
        return f"{label} {text}"
    return gettext("%(label)s: %(text)s", label=label, text=text)
