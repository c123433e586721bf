"""The printable work order: the report's absolute link and its QR code (SVG, drawn by the qrcode library)."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from flask import current_app, request
from markupsafe import Markup

from meldingen.reports.models import Report


def report_link(report: Report, path: str) -> str:
    """The report page's absolute URL: the configured public address, else the one this request came in on."""
    base = (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return base + path


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code of `text` (medium error correction, so a creased paper still scans)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    svg = svg.replace("<?xml version='1.0' encoding='UTF-8'?>", "").strip()
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR-code naar de melding" ', 1))
