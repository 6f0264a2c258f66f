"""Whose portal this is: the organisation's name, logo, accent colour and footer links.

An administrator sets them on the dashboard (one ``SiteIdentity`` row); until then
the settings give them (``PORTAL_ORG_NAME_EN``…). Every page shows them, so the
identity is kept in the process for ``SITE_IDENTITY_CACHE_SECONDS`` instead of
costing each page a query; saving it clears this process's copy at once, other
workers see it when their copy expires.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.models import SiteIdentity

IDENTITY_ID = 1
MAX_LOGO_BYTES = 200 * 1024
LINK_KINDS = ("privacy", "accessibility", "contact", "terms")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: The GC Design System's primary background (--gcds-bg-primary), 12.2:1 on white.
DEFAULT_ACCENT = "#26374a"
#: WCAG 2.1 AA for normal text: white text on the accent, accent links on white.
MIN_CONTRAST = 4.5
_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


class IdentityError(ValueError):
    """A value was refused; the message says why, for the administrator."""


@dataclass(frozen=True)
class Identity:
    """What the pages need, in both languages; ``name()`` etc. pick the reader's."""

    names: dict[str, str]
    accent: str
    logo_alts: dict[str, str] = field(default_factory=dict)
    logo_type: str = ""
    logo_version: str = ""
    links: dict[str, dict[str, str]] = field(default_factory=dict)

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or ""

    def logo_alt(self, language: str) -> str:
        return self.logo_alts.get(language) or self.logo_alts.get("en") or self.name(language)

    def link(self, kind: str, language: str) -> str:
        """The page in the reader's language, else the other one (better than no link)."""
        urls = self.links.get(kind, {})
        return urls.get(language) or next((url for url in urls.values() if url), "")

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_version)

    @property
    def version(self) -> str:
        """Changes whenever the stylesheet or logo would: a cache-busting query value."""
        return hashlib.sha256(f"{self.accent}|{self.logo_version}".encode()).hexdigest()[:12]


# --- reading ------------------------------------------------------------------------------

def current() -> Identity:
    """The identity pages show now (cached in this process, see the module docstring)."""
    cached = current_app.extensions.get("site_identity")
    ttl = current_app.config.get("SITE_IDENTITY_CACHE_SECONDS", 30)
    if cached and time.monotonic() - cached[0] < ttl:
        return cached[1]
    try:
        identity = _load()
    except SQLAlchemyError:
        # A database that is down or not yet migrated still gets its error page, with the
        # settings' identity; nothing is cached so the stored one shows once it is back.
        db.session.rollback()
        return _from_settings()
    current_app.extensions["site_identity"] = (time.monotonic(), identity)
    return identity


def forget() -> None:
    """Drop this process's copy (after a save) so the next page reads the new identity."""
    current_app.extensions.pop("site_identity", None)


def stored() -> SiteIdentity | None:
    return db.session.get(SiteIdentity, IDENTITY_ID)


def logo() -> tuple[bytes, str] | None:
    """The logo's bytes and media type: the stored one, else the file named in settings."""
    row = stored()
    if row is not None and row.logo:
        return row.logo, row.logo_type
    return _settings_logo()


def _load() -> Identity:
    row = stored()
    if row is None:
        return _from_settings()
    return Identity(
        names={"en": row.name_en, "fr": row.name_fr},
        accent=row.accent or DEFAULT_ACCENT,
        logo_alts={"en": row.logo_alt_en, "fr": row.logo_alt_fr},
        logo_type=row.logo_type if row.logo else "",
        logo_version=_digest(row.logo) if row.logo else "",
        links={kind: {lang: getattr(row, f"{kind}_url_{lang}") for lang in ("en", "fr")}
               for kind in LINK_KINDS},
    )


def _from_settings() -> Identity:
    config = current_app.config
    settings_logo = _settings_logo()
    return Identity(
        names={"en": config.get("PORTAL_ORG_NAME_EN", ""), "fr": config.get("PORTAL_ORG_NAME_FR", "")},
        accent=config.get("PORTAL_ACCENT_COLOUR") or DEFAULT_ACCENT,
        logo_alts={"en": config.get("PORTAL_LOGO_ALT_EN", ""), "fr": config.get("PORTAL_LOGO_ALT_FR", "")},
        logo_type=settings_logo[1] if settings_logo else "",
        logo_version=_digest(settings_logo[0]) if settings_logo else "",
        links={kind: {lang: config.get(f"PORTAL_{kind.upper()}_URL_{lang.upper()}", "")
                      for lang in ("en", "fr")} for kind in LINK_KINDS},
    )


def _settings_logo() -> tuple[bytes, str] | None:
    path = current_app.config.get("PORTAL_LOGO_FILE")
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_LOGO_BYTES + 1)
        return data, logo_type_of(data)
    except (OSError, IdentityError):
        current_app.logger.warning("PORTAL_LOGO_FILE %s is unreadable or refused; no logo shown", path)
        return None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


# --- rules ----------------------------------------------------------------------------------

def contrast_with_white(colour: str) -> float:
    """WCAG 2.1 contrast ratio of ``#rrggbb`` against white (1 to 21)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def accent_problem(colour: str) -> str | None:
    """Why this accent colour is refused, or None."""
    if not HEX_COLOUR.match(colour or ""):
        return str(_l("Give the colour as # and six hexadecimal digits, for example #26374a."))
    ratio = contrast_with_white(colour)
    if ratio < MIN_CONTRAST:
        return str(_l("This colour has a contrast of %(ratio).1f:1 with white; at least 4.5:1 is "
                      "needed so text on it and links in it can be read. Choose a darker colour.",
                      ratio=ratio))
    return None


def url_problem(url: str) -> str | None:
    """Footer links must be web addresses (https or http), not scripts or relative paths."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return str(_l("Give a full web address starting with https://."))
    return None


def logo_type_of(data: bytes) -> str:
    """``image/png`` or ``image/svg+xml``; raises IdentityError for anything else or unsafe SVG."""
    if not data:
        raise IdentityError(_l("The file is empty."))
    if len(data) > MAX_LOGO_BYTES:
        raise IdentityError(_l("The logo is larger than 200 KB."))
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    _check_svg(data)
    return "image/svg+xml"


def _check_svg(data: bytes) -> None:
    """Refuse SVG that could run code or fetch anything: scripts, event handlers,
    foreign objects, external references. Entities and DTDs are refused by defusedxml."""
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise IdentityError(_l("The logo must be a PNG or an SVG file.")) from exc
    if root.tag not in (f"{_SVG_NS}svg", "svg"):
        raise IdentityError(_l("The logo must be a PNG or an SVG file."))
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""
        if tag in ("script", "foreignobject", "iframe", "embed", "object", "use", "image", "style"):
            raise IdentityError(_l("The SVG contains a %(tag)s element; scripts, styles, images and "
                                   "external content are not accepted in a logo.", tag=tag))
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise IdentityError(_l("The SVG contains an event handler (%(name)s); scripts are "
                                       "not accepted in a logo.", name=local))
            if (name == _XLINK_HREF or local == "href") and not value.startswith("#"):
                raise IdentityError(_l("The SVG refers to another file; a logo must be self-contained."))
            if "url(" in value.replace(" ", "").lower() and "url(#" not in value.replace(" ", "").lower():
                raise IdentityError(_l("The SVG refers to another file; a logo must be self-contained."))


# --- writing --------------------------------------------------------------------------------

def save(values: dict, *, logo_data: bytes | None = None, remove_logo: bool = False) -> dict:
    """Store the identity (creating the row the first time) and return the changes for the
    audit trail (logo bytes summarised, never copied). Raises IdentityError for a refused value;
    the caller commits."""
    accent = (values.get("accent") or "").strip().lower()
    if accent and (problem := accent_problem(accent)):
        raise IdentityError(problem)
    for kind in LINK_KINDS:
        for lang in ("en", "fr"):
            if problem := url_problem(values.get(f"{kind}_url_{lang}", "")):
                raise IdentityError(problem)
    new_type = logo_type_of(logo_data) if logo_data is not None else None
    row = stored()
    if row is None:
        row = SiteIdentity(id=IDENTITY_ID, name_en="", name_fr="", logo_type="", logo_alt_en="",
                           logo_alt_fr="", accent="", **{f"{k}_url_{lang}": "" for k in LINK_KINDS
                                                          for lang in ("en", "fr")})
        db.session.add(row)
    changes = {}
    for name, value in {**values, "accent": accent}.items():
        value = (value or "").strip()
        if getattr(row, name) != value:
            changes[name] = [getattr(row, name), value]
            setattr(row, name, value)
    if new_type is not None:
        changes["logo"] = [_digest(row.logo) if row.logo else None, _digest(logo_data)]
        row.logo, row.logo_type = logo_data, new_type
    elif remove_logo and row.logo:
        changes["logo"] = [_digest(row.logo), None]
        row.logo, row.logo_type = None, ""
    forget()
    return changes
