"""The printable report as PDF: the report page's HTML laid out for A4 by WeasyPrint.

WeasyPrint (Python, on the Debian pango libraries) rather than a headless browser on the server: the
charts are already SVG, so no script has to run, and a bank server needs no browser process. Chinese
text needs a CJK font installed (`scripts/browser.sh` installs `fonts-noto-cjk`); the fonts used are
subset and embedded, so the PDF reads the same on any machine.
"""

from __future__ import annotations

import logging

log = logging.getLogger("api.web")


def html_to_pdf(html: str, title: str) -> bytes:
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=html).render()
    document.metadata.title = title
    return document.write_pdf()
