"""Malformed input is refused with a clear 4xx, the same way for every view (home/input_guard.py, plumbing/parsing.py)."""

import datetime

import pytest

from plumbing.parsing import MAX_PK, parse_date, parse_int, parse_pk


def test_parse_int_takes_ascii_digits_within_range_only():
    assert parse_int("42") == 42
    assert parse_int("-1") == -1
    assert parse_int("-1", min=0) is None
    assert parse_int("²") is None  # "²".isdigit() is true, int("²") fails
    assert parse_int("٣") is None  # a decimal digit, but not ASCII
    assert parse_int(str(10**23)) is None
    assert parse_int("abc") is None
    assert parse_int("") is None
    assert parse_int(None) is None
    assert parse_int("101", max=100) is None


def test_parse_pk_fits_the_database():
    assert parse_pk("1") == 1
    assert parse_pk(str(MAX_PK)) == MAX_PK
    assert parse_pk(str(MAX_PK + 1)) is None
    assert parse_pk("0") is None


def test_parse_date_within_1900_to_2100():
    assert parse_date("2026-12-05") == datetime.date(2026, 12, 5)
    assert parse_date("0001-01-01") is None
    assert parse_date("9999-12-31") is None
    assert parse_date("2026-02-30") is None


@pytest.mark.django_db
def test_control_characters_in_the_query_string_or_path_are_400(client, site_pages):
    assert client.get("/zh-hans/search/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/zh-hans/search/", {"q": "a\x1bb"}).status_code == 400
    assert client.get("/zh-hans/me/letters/a%00b/").status_code == 400


@pytest.mark.django_db
def test_a_posted_nul_is_400_but_other_control_characters_in_a_form_field_are_not(client, site_pages):
    assert client.post("/text-size/", {"size": "large", "next": "/zh-hans/\x00"}).status_code == 400
    pasted = "line one\r\nline two\tend\x0bWord's line break\x0cpage"
    response = client.post("/text-size/", {"size": "large", "next": "/zh-hans/", "note": pasted})
    assert response.status_code == 302


@pytest.mark.django_db
def test_an_id_beyond_the_database_integers_is_not_found(client, site_pages):
    assert client.get(f"/zh-hans/activities/sessions/{10**23}/draw/").status_code == 404


@pytest.mark.django_db
def test_a_tracking_key_with_non_ascii_characters_finds_no_letter(client, site_pages):
    from deliberation.mailbox.factories import LetterFactory

    letter = LetterFactory(access_key="k" * 32)
    assert client.get(f"/zh-hans/mailbox/track/{letter.tracking_number}/{'k' * 32}/").status_code == 200
    assert client.get(f"/zh-hans/mailbox/track/{letter.tracking_number}/王秀英☃/").status_code == 404


@pytest.mark.django_db
def test_a_search_for_a_double_quote_is_an_ordinary_search(client, site_pages):
    assert client.get("/zh-hans/search/", {"q": '"'}).status_code == 200
    assert client.get("/zh-hans/search/", {"q": 'say "hello'}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("view", ["week", "month"])
def test_the_activity_calendar_at_the_ends_of_time_shows_today(client, site_pages, date, view):
    from events.factories import activity_index

    index = activity_index()
    assert client.get(index.url, {"view": view, "date": date}).status_code == 200


@pytest.mark.django_db
def test_a_bad_request_says_so_in_both_languages(client, site_pages):
    response = client.get("/zh-hans/search/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert "请求无效" in response.text and "Bad request" in response.text
