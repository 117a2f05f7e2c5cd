"""File names, media types and download headers of documents: safe whatever the client sent."""

from __future__ import annotations

import pytest

from domain.documents import content_disposition, media_type, safe_file_name


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("offer.pdf", "offer.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\kim\\cv.docx", "cv.docx"),
        ("..", "document"),
        ("", "document"),
        (".htaccess", "htaccess"),
        ("tab\there\x00\x1b[31m.txt", "tabhere[31m.txt"),
        ("cafe\u0301.txt", "café.txt"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
        ("b" * 300, "b" * 255),
    ],
)
def test_file_names_are_the_last_segment_without_control_characters(given: str, safe: str) -> None:
    assert safe_file_name(given) == safe


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("application/PDF", "application/pdf"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("", "application/octet-stream"),
        ("text/html\r\nx-evil: 1", "application/octet-stream"),
        ("nonsense", "application/octet-stream"),
    ],
)
def test_media_types_are_reduced_to_type_and_subtype(given: str, kind: str) -> None:
    assert media_type(given) == kind


def test_download_names_cannot_break_out_of_the_header() -> None:
    assert content_disposition('a"b\\c.pdf') == (
        "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf"
    )
