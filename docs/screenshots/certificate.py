"""Draw the README's certificate: docs/screenshots/certificate.png, page 1 of a real certificate PDF.

    .venv/bin/python docs/screenshots/certificate.py

It builds a temporary SQLite database with the real migrations, loads the demo series
(its 2022–2023 dates, so the webinars are over), marks one attendee of the first webinar
— "Zoë Ñúñez-Łukasiewicz" — as attended with the attendance final, issues her
certificate through the same code as the download link, and renders page 1 with PDFium
at 110 dpi.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import pypdfium2  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Registration, Webinar  # noqa: E402
from portal.models.types import utcnow  # noqa: E402
from portal.services import certificate_pdf, certificates, demo  # noqa: E402
from portal.services.registration import link_token  # noqa: E402
from portal.services.tokens import hash_token  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/portal.db", "SECRET_KEY": "screenshot",
                          "PORTAL_BASE_URL": "https://webinars.example.gc.ca", "MAIL_FOLDER": folder})
        with app.app_context():
            upgrade()
            demo.load_demo_series(upcoming=False)
            webinar = db.session.scalars(select(Webinar).order_by(Webinar.starts_at)).first()
            webinar.attendance_final_at = utcnow()
            created = utcnow()
            registration = Registration(
                webinar=webinar, full_name="Zoë Ñúñez-Łukasiewicz", email="zoe@example.org",
                email_normalised="zoe@example.org", attended=True, preferred_language="en", created_at=created,
                token_hash=hash_token(link_token(webinar.id, "zoe@example.org", created)))
            db.session.add(registration)
            db.session.flush()
            certificate = certificates.certificate_for(registration)
            body = certificate_pdf.certificates_pdf([certificate])
            db.session.rollback()
            db.engine.dispose()
    page = pypdfium2.PdfDocument(body)[0]
    page.render(scale=110 / 72).to_pil().save(HERE / "certificate.png", optimize=True)
    print(f"wrote {HERE / 'certificate.png'}")


if __name__ == "__main__":
    main()
