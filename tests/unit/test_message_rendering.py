"""Message templates: what a draft may contain (checked at save), and what rendering makes of
hostile data (domain/message_rendering.py)."""

from __future__ import annotations

import pytest

from domain.message_rendering import (
    HTML_BODY,
    SUBJECT,
    TEXT_BODY,
    TemplateParts,
    TemplateProblem,
    check_template,
    render,
    sanitized_html,
)

WELCOME = TemplateParts(
    subject="Welcome, {{ recipient.first_name }}",
    text_body="Hello {{ recipient.full_name }},\n\n{{ owner.name }} from {{ agency.name }}",
    html_body="<p>Hello <b>{{ recipient.first_name }}</b></p><p>{{ agency.street }}</p>",
)
ADA = {
    "recipient": {"first_name": "Ada", "full_name": "Ada Lovelace"},
    "owner": {"name": "Olive"},
    "agency": {"name": "Acme", "street": "1 Fleet Street"},
}


def problems(**parts: str) -> list[TemplateProblem]:
    return check_template(TemplateParts(**{"subject": "Hi", "text_body": "Hello", **parts}))


def test_a_template_that_passes_renders_with_real_data() -> None:
    assert check_template(WELCOME) == []

    message = render(WELCOME, ADA)

    assert message.subject == "Welcome, Ada"
    assert message.text_body == "Hello Ada Lovelace,\n\nOlive from Acme"
    assert message.html_body == "<p>Hello <b>Ada</b></p><p>1 Fleet Street</p>"


def test_data_missing_from_a_recipient_renders_empty_rather_than_failing_the_send() -> None:
    message = render(WELCOME, {"recipient": {"first_name": None}})

    assert message.subject == "Welcome,"
    assert message.text_body == "Hello ,\n\n from "


@pytest.mark.parametrize(
    ("part", "source", "expected"),
    [
        (TEXT_BODY, "Hi {{ customer.name }}", "Unknown variable 'customer'"),
        (TEXT_BODY, "Hi {{ recipient.salary }}", "recipient has no 'salary'"),
        (TEXT_BODY, "{{ recipient['password_hash'] }}", "recipient has no 'password_hash'"),
        (TEXT_BODY, "{% if false %}{{ owner.phone }}{% endif %}", "owner has no 'phone'"),
        (TEXT_BODY, "{% set k = 'email' %}{{ owner[k] }}", "not a computed key"),
        (SUBJECT, "Hi {{ recipient.first_name ", "unexpected end of template"),
        (HTML_BODY, "<p>{{ recipient.first_name | no_such_filter }}</p>", "no_such_filter"),
    ],
)
def test_a_mistake_is_found_when_the_draft_is_saved(part: str, source: str, expected: str) -> None:
    found = problems(**{part: source})

    assert [problem.part for problem in found] == [part]
    assert expected in found[0].message, found


def test_a_syntax_error_names_its_line() -> None:
    [unclosed] = problems(text_body="Hello\n\n{% if recipient.first_name %}\nno end")
    [broken] = problems(html_body="<p>\n{{ recipient.first_name }</p>")

    assert (unclosed.part, unclosed.line) == (TEXT_BODY, 3)  # where the open block starts
    assert (broken.part, broken.line) == (HTML_BODY, 2)


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ recipient.__class__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ recipient.first_name.__class__.__base__ }}",
        "{{ recipient.update({'email': 'x'}) }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_attempts_to_leave_the_sandbox_are_refused(escape: str) -> None:
    found = problems(text_body=escape)

    assert found, f"{escape} was accepted"
    assert found[0].part == TEXT_BODY


def test_a_contact_named_script_stays_text_in_html_and_plain_in_text() -> None:
    hostile = {"recipient": {"first_name": "<script>alert(1)</script>", "full_name": "A & B"}}

    message = render(WELCOME, hostile)

    assert "<script>" not in message.html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html_body
    assert message.text_body.startswith("Hello A & B,")


def test_the_subject_is_one_line_whatever_the_data() -> None:
    injected = {"recipient": {"first_name": "Ada\r\nBcc: everyone@example.com"}}

    assert render(WELCOME, injected).subject == "Welcome, Ada Bcc: everyone@example.com"


def test_html_is_sanitised_on_save_and_keeps_its_variables() -> None:
    source = (
        '<p onclick="steal()">Hi {{ recipient.first_name }}</p>'
        "<script>steal()</script>"
        '<a href="javascript:steal()">x</a><a href="https://acme.example.com">site</a>'
    )

    cleaned = sanitized_html(source)

    assert "onclick" not in cleaned
    assert "<script" not in cleaned
    assert "javascript:" not in cleaned
    assert "{{ recipient.first_name }}" in cleaned
    assert 'href="https://acme.example.com"' in cleaned
    assert check_template(TemplateParts("Hi", "Hello", cleaned)) == []


@pytest.mark.parametrize(
    ("part", "size"), [(SUBJECT, 256), (TEXT_BODY, 100_001), (HTML_BODY, 200_001)]
)
def test_every_part_has_a_size_limit(part: str, size: int) -> None:
    [problem] = problems(**{part: "x" * size})

    assert (problem.part, problem.message) == (part, f"At most {size - 1} characters.")


def test_a_subject_and_a_text_body_are_required() -> None:
    assert [p.part for p in problems(subject=" ")] == [SUBJECT]
    assert [p.part for p in problems(text_body="")] == [TEXT_BODY]
