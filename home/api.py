"""The API's notices (/api/v1/notices/): the notice list's own queries (NoticePage.listed, street_and), as JSON."""

from __future__ import annotations

import datetime
from typing import Annotated

from django.http import Http404, HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import Field
from wagtail.models import Locale

from api.core import json_with_etag, optional_resident, page_of
from plumbing.parsing import MAX_PK

from .i18n import labels
from .models import Community, NoticePage

router = Router(tags=["notices"])


class NoticeSummary(Schema):
    id: int
    title: str
    summary: str
    category: str
    category_label: str
    publication_date: datetime.date
    pinned: bool
    expired: bool
    community: str | None
    url: str


class NoticeList(Schema):
    items: list[NoticeSummary]
    next: str | None


class NoticeDetail(NoticeSummary):
    body_html: str


class NoticeParams(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)
    category: NoticePage.Category | None = None


def _community_names(notices: list[NoticePage]) -> dict[int, str]:
    """Each notice's community named in the request's language (home.i18n), in one query."""
    return labels(Community, {notice.community_id for notice in notices})


def _summary(notice: NoticePage, names: dict) -> dict:
    return {
        "id": notice.pk,
        "title": notice.title,
        "summary": notice.summary,
        "category": notice.category,
        "category_label": str(notice.get_category_display()),
        "publication_date": notice.publication_date,
        "pinned": notice.pinned,
        "expired": notice.is_expired,
        "community": names.get(notice.community_id) if notice.community_id else None,
        "url": notice.url or "",
    }


@router.get("/notices/", response=NoticeList, summary="Notices: the street's and the resident's community's, pinned first")
def list_notices(request: HttpRequest, params: Query[NoticeParams]):
    """In the request's language. A resident with a community (token or session) gets the street's notices and their
    community's, as the notice list shows them by default; anyone else every community's."""
    notices = NoticePage.listed().filter(locale=Locale.get_active())
    if params.category:
        notices = notices.filter(category=params.category)
    profile = getattr(optional_resident(request), "profile", None)
    if profile is not None and profile.community_id:
        notices = NoticePage.street_and(notices, profile.community)
    page, following = page_of(notices, params.cursor, params.limit)
    names = _community_names(page)
    return json_with_etag(request, {"items": [_summary(each, names) for each in page], "next": following})


@router.get("/notices/{notice_id}/", response=NoticeDetail, summary="A notice with its text for display")
def get_notice(request: HttpRequest, notice_id: Annotated[int, Path(ge=1, le=MAX_PK)]):
    notice = NoticePage.objects.live().filter(pk=notice_id).first()
    if notice is None or notice.get_view_restrictions().exists():
        raise Http404
    notice = notice.localized.specific
    return json_with_etag(request, {**_summary(notice, _community_names([notice])), "body_html": str(notice.body)})
