"""Who may attend a webinar: allowed email domains and the status a new registration starts in.

Domains are compared on their IDNA (``xn--``) form in lower case, so
``Police.CA``, ``police.ca.`` and a Unicode domain typed either way all match
the same pattern. A pattern is a domain (``rcmp-grc.gc.ca``: that domain only)
or a wildcard (``*.police.ca``: any subdomain of police.ca, not police.ca itself;
list both when both are meant).
"""

from __future__ import annotations

import idna

from portal.models import Webinar, WebinarAudience

MAX_PATTERNS = 200


class InvalidDomain(ValueError):
    """A line of the allowed-domains list is not a domain; ``line`` is what was typed."""

    def __init__(self, line: str) -> None:
        self.line = line
        super().__init__(line)


def normalise_domain(domain: str) -> str:
    """The domain's ASCII form in lower case; raises ``InvalidDomain`` for anything that is not a domain."""
    text = (domain or "").strip().rstrip(".")
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as error:
        raise InvalidDomain(domain) from error
    if "." not in ascii_form:
        raise InvalidDomain(domain)
    return ascii_form.lower()


def parse_domain_patterns(text: str) -> list[str]:
    """One pattern per line (blank lines, spaces, commas and duplicates ignored), normalised."""
    patterns: list[str] = []
    for raw in (text or "").replace(",", "\n").splitlines():
        line = raw.strip().lstrip("@")
        if not line:
            continue
        wildcard = line.startswith("*.")
        domain = normalise_domain(line[2:] if wildcard else line)
        pattern = f"*.{domain}" if wildcard else domain
        if pattern not in patterns:
            patterns.append(pattern)
    if len(patterns) > MAX_PATTERNS:
        raise InvalidDomain(str(len(patterns)))
    return patterns


def patterns_of(series) -> list[str]:
    return [line for line in (series.allowed_email_domains or "").splitlines() if line]


def email_domain(email: str | None) -> str:
    """The normalised domain of an address ('' when it has none or it cannot be normalised)."""
    _, at, domain = (email or "").rpartition("@")
    if not at:
        return ""
    try:
        return normalise_domain(domain)
    except InvalidDomain:
        return ""


def domain_allowed(email: str | None, patterns: list[str]) -> bool:
    domain = email_domain(email)
    if not domain:
        return False
    for pattern in patterns:
        if pattern.startswith("*."):
            if domain.endswith(pattern[1:]):
                return True
        elif domain == pattern:
            return True
    return False


def needs_decision(webinar: Webinar, email: str) -> bool:
    """Whether a new registration waits for an organiser (``pending``) instead of taking a seat now."""
    if webinar.audience == WebinarAudience.APPROVAL:
        return True
    if webinar.audience == WebinarAudience.RESTRICTED:
        return not domain_allowed(email, patterns_of(webinar.series))
    return False
