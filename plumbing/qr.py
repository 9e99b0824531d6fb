"""The portal's QR codes, made in one place: inline SVG for HTML pages, a data URI for <img>.

Always a full QR code: segno.make would pick a Micro QR for short texts, which phone cameras and jsQR
cannot read. An SVG in a data URI is a standalone document and needs its xmlns, or browsers show a
broken image; segno's svg_data_uri writes it (svg_inline leaves it out, as HTML does not need it).
"""

import segno

QR_CLASS = "qr"  # every QR code the portal shows carries it (the browser tests decode them all)


def qr_svg(text: str, *, title: str, scale: int = 5, border: int = 2) -> str:
    """Inline SVG markup, sized by CSS through its viewBox."""
    return segno.make_qr(text, error="m").svg_inline(scale=scale, border=border, omitsize=True, title=title, svgclass=QR_CLASS)


def qr_data_uri(text: str, *, scale: int = 4, border: int = 4) -> str:
    """A data: URI of a standalone SVG document, for an <img src>."""
    return segno.make_qr(text, error="m").svg_data_uri(scale=scale, border=border, dark="#000", light="#fff")
