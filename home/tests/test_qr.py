"""The portal's QR codes: full QR codes, and data URIs that browsers can show."""

import urllib.parse

from plumbing.qr import qr_data_uri, qr_svg


def test_a_data_uri_is_a_standalone_svg_document_with_its_namespace():
    uri = qr_data_uri("https://linli.example.cn/admin/points/hand-over/?code=ABCD2345")
    assert uri.startswith("data:image/svg+xml")
    assert "xmlns='http://www.w3.org/2000/svg'" in urllib.parse.unquote(uri)


def test_inline_svg_is_a_full_qr_code_sized_by_its_viewbox_and_marked_for_the_tests():
    svg = qr_svg("LINLI:abc", title="ABC")
    assert svg.startswith('<svg viewBox="0 0 125 125" class="qr">')  # version 1 (21 modules), not a Micro QR
    assert "<title>ABC</title>" in svg and "width=" not in svg.split(">")[0]
