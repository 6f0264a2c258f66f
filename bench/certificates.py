"""How long certificates take to draw: one, and a webinar's worth as one PDF and as a ZIP.

    .venv/bin/python bench/certificates.py [N]

Builds N (default 200) certificates in memory (no database: transient rows) with
names that need the CJK fallback font every fifth time, and prints the time and size of
each output. Timed targets live here, never as assertions in the tests.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.models import Certificate, CertificateKind, Organisation, Series, Webinar  # noqa: E402
from portal.services import certificate_pdf  # noqa: E402


def certificates(n: int) -> list[Certificate]:
    series = Series(title="Combatting Online Child Sexual Exploitation", slug="s", timezone="America/Toronto",
                    host=Organisation(name="Public Safety Canada"))
    webinar = Webinar(series=series, title="The Use of Technology", slug="w", duration_minutes=90,
                      starts_at=datetime(2022, 12, 2, 18, tzinfo=UTC))
    names = ["Zoë Ñúñez-Łukasiewicz", "Marie-Ève Tremblay", "Jean Dupont", "Aroha Ngata", "李小龍"]
    return [Certificate(id=i, code=f"code{i:028d}", kind=CertificateKind.WEBINAR, webinar=webinar, series=series,
                        printed_name=names[i % 5], language="fr" if i % 2 else "en", credited_minutes=90)
            for i in range(n)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench"})
    with app.app_context():
        batch = certificates(n)
        for label, build in (("one certificate", lambda: certificate_pdf.certificates_pdf(batch[:1])),
                             (f"{n} in one PDF", lambda: certificate_pdf.certificates_pdf(batch)),
                             (f"{n} as a ZIP", lambda: certificate_pdf.certificates_zip(batch))):
            started = time.perf_counter()
            body = build()
            print(f"{label}: {time.perf_counter() - started:.2f} s, {len(body) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
