"""The certificate as a PDF page (fpdf2): name, what was attended, hours, signature line, QR code.

Text is set in Noto Sans, with a cut-down Noto Sans CJK ("Portal CJK", see
``portal/fonts/``) as fallback, so "Zoë Ñúñez-Łukasiewicz" and "李小龍" both
print. The QR code is drawn as vector squares (no image library involved) and
holds the verification URL, which is also printed beneath it. Each page is in
its certificate's language.
"""

from __future__ import annotations

import functools
import io
import zipfile
from datetime import datetime
from pathlib import Path

import segno
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from fontTools.ttLib import TTFont
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from portal import dates
from portal.models import Certificate, CertificateKind
from portal.services.certificates import verification_url

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FAMILY = "NotoSans"
FALLBACK = "PortalCJK"
INK = (33, 37, 41)
ACCENT = (38, 70, 83)
MUTED = (90, 98, 104)


class CertificateDocument(FPDF):
    def __init__(self, with_fallback: bool = True) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(25, 20, 25)
        self.add_font(FAMILY, "", FONTS / "NotoSans-Regular.ttf")
        self.add_font(FAMILY, "B", FONTS / "NotoSans-Bold.ttf")
        if with_fallback:
            self.add_font(FALLBACK, "", FONTS / "PortalCJK-Regular.otf")
            self.set_fallback_fonts([FALLBACK], exact_match=False)
        self.set_creator("Webinar portal")


@functools.cache
def _latin_characters() -> frozenset[int]:
    """What Noto Sans itself covers (read once per process)."""
    with TTFont(FONTS / "NotoSans-Regular.ttf", lazy=True) as font:
        return frozenset(font.getBestCmap())


def _texts(certificate: Certificate) -> list[str]:
    texts = [certificate.printed_name, certificate.series.title, _organisation(certificate)]
    if certificate.webinar is not None:
        texts.append(certificate.webinar.title)
    texts.extend(session["title"] for session in certificate.sessions or [])
    return texts


def needs_fallback(certificates: list[Certificate]) -> bool:
    """Only documents with characters Noto Sans lacks (CJK names) load the 1.7 MB CJK font:
    parsing and subsetting it is most of the time a certificate takes."""
    covered = _latin_characters()
    return any(ord(c) not in covered for certificate in certificates for text in _texts(certificate)
               for c in text if not c.isspace())


def hours_text(minutes: int, language: str) -> str:
    """'1.5' / '1,5': hours with at most two decimals, in the reader's notation."""
    return format_decimal(minutes / 60, "#,##0.##", locale=dates.DATE_LOCALES.get(language, "en"))


def _date_text(moment: datetime, certificate: Certificate) -> str:
    return dates.long_date(moment, certificate.series.zone)


def _centred(pdf: FPDF, text: str, size: float, style: str = "", colour=INK, height: float | None = None) -> None:
    pdf.set_font(FAMILY, style, size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, height or size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)


def _qr_code(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    code = segno.make(url, error="m")
    modules = code.matrix
    module = size / len(modules)
    pdf.set_fill_color(*INK)
    for row, line in enumerate(modules):
        column = 0
        while column < len(line):  # one rectangle per run of dark modules: fewer operators, no seams
            if not line[column]:
                column += 1
                continue
            end = column
            while end < len(line) and line[end]:
                end += 1
            pdf.rect(x + column * module, y + row * module, (end - column) * module, module, style="F")
            column = end


def _organisation(certificate: Certificate) -> str:
    host = certificate.series.host
    return host.name if host is not None else certificate.series.title


def _webinar_body(pdf: FPDF, certificate: Certificate) -> None:
    webinar = certificate.webinar
    _centred(pdf, _("attended the webinar"), 13, colour=MUTED)
    pdf.ln(2)
    _centred(pdf, webinar.title, 17, "B", colour=ACCENT, height=8)
    _centred(pdf, _("part of the series “%(series)s”", series=certificate.series.title), 11, colour=MUTED, height=6)
    pdf.ln(4)
    _centred(pdf, _("held on %(date)s · length: %(minutes)d minutes", date=_date_text(webinar.starts_at, certificate),
                    minutes=webinar.duration_minutes), 12, height=6)
    _centred(pdf, _("Hours credited: %(hours)s", hours=hours_text(certificate.credited_minutes, certificate.language)),
             13, "B", height=7)


def _series_body(pdf: FPDF, certificate: Certificate) -> None:
    sessions = certificate.sessions or []
    _centred(pdf, _("attended %(n)d webinars of the series", n=len(sessions)), 13, colour=MUTED)
    pdf.ln(1)
    _centred(pdf, certificate.series.title, 16, "B", colour=ACCENT, height=8)
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(*INK)
    for session in sessions:
        when = _date_text(datetime.fromisoformat(session["starts_at"]), certificate)
        line = _("%(title)s — %(date)s — %(hours)s h", title=session["title"], date=when,
                 hours=hours_text(session["minutes"], certificate.language))
        pdf.multi_cell(0, 5, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _centred(pdf, _("Total hours credited: %(hours)s",
                    hours=hours_text(certificate.credited_minutes, certificate.language)), 13, "B", height=7)


def _signature_and_verification(pdf: FPDF, certificate: Certificate) -> None:
    bottom = pdf.h - 22
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.3)
    pdf.line(30, bottom - 14, 120, bottom - 14)
    pdf.set_xy(30, bottom - 12)
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(90, 4, _("Signature"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(30)
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_text_color(*INK)
    pdf.multi_cell(100, 4.5, _organisation(certificate), new_x="LMARGIN", new_y="NEXT")

    url = verification_url(certificate)
    size = 30
    x = pdf.w - 30 - size
    _qr_code(pdf, url, x, bottom - size - 8, size)
    pdf.set_font(FAMILY, "", 7)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(pdf.w - 150, bottom - 7)
    pdf.cell(120, 3.5, _("Verify this certificate:"), align="R", new_x="LEFT", new_y="NEXT")
    pdf.cell(120, 3.5, url, align="R")


def add_page(pdf: FPDF, certificate: Certificate) -> None:
    """One certificate, in its own language, on a new page."""
    with force_locale(certificate.language):
        pdf.add_page()
        _frame(pdf)
        pdf.set_y(24)
        _centred(pdf, _organisation(certificate), 12, "B", colour=ACCENT, height=6)
        pdf.ln(6)
        _centred(pdf, _("Certificate of attendance"), 28, "B", colour=ACCENT, height=13)
        pdf.ln(4)
        _centred(pdf, _("This certifies that"), 12, colour=MUTED)
        pdf.ln(2)
        _centred(pdf, certificate.printed_name, 24, "B", height=11)
        pdf.ln(2)
        if certificate.kind == CertificateKind.SERIES:
            _series_body(pdf, certificate)
        else:
            _webinar_body(pdf, certificate)
        _signature_and_verification(pdf, certificate)


def certificates_pdf(certificates: list[Certificate]) -> bytes:
    """One PDF, a page per certificate (the organiser's "all in one PDF")."""
    pdf = CertificateDocument(with_fallback=needs_fallback(certificates))
    pdf.set_title("Certificates of attendance" if len(certificates) != 1 else "Certificate of attendance")
    for certificate in certificates:
        add_page(pdf, certificate)
    return bytes(pdf.output())


def certificate_filename(certificate: Certificate) -> str:
    """ASCII, no path characters: 'certificate-<id>-<name>.pdf'."""
    name = "".join(c if c.isascii() and c.isalnum() else "-" for c in certificate.printed_name).strip("-")
    name = "-".join(part for part in name.split("-") if part)[:60]
    return f"certificate-{certificate.id}{'-' + name if name else ''}.pdf"


def certificates_zip(certificates: list[Certificate]) -> bytes:
    """A ZIP with one PDF per certificate.

    The certificates are drawn once, as one document, whose pages are then split (pypdf):
    embedding and subsetting the fonts is most of a document's cost, so 200 separate
    documents took ten times as long (see ``bench/certificates.py``).
    """
    reader = PdfReader(io.BytesIO(certificates_pdf(certificates)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for certificate, page in zip(certificates, reader.pages, strict=True):
            writer = PdfWriter()
            writer.add_page(page)
            writer.add_metadata({"/Title": "Certificate of attendance", "/Creator": "Webinar portal"})
            single = io.BytesIO()
            writer.write(single)
            archive.writestr(certificate_filename(certificate), single.getvalue())
    return buffer.getvalue()
