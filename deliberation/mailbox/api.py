"""The API of the resident mailbox (/api/v1/me/letters/, /api/v1/topics/): the pages' forms, queries and services
(forms.py, services/), answered as JSON. No rule lives here.

A letter is its writer's: another resident's letter is answered 404, as one that does not exist (the pages
do the same). Topics are public once staff approved their summary, as on the topic pages.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Path, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from api.core import (
    ErrorOut,
    ListParams,
    form_errors,
    invalid,
    json_with_etag,
    optional_resident,
    page_of,
    resident_auth,
)
from home import i18n
from plumbing.network import client_address
from plumbing.parsing import MAX_PK

from . import services
from .forms import LetterForm, SatisfactionForm
from .models import Category, Letter, LetterPhoto, Support, Topic

router = Router(tags=["mailbox"])

Id = Annotated[int, Path(ge=1, le=MAX_PK)]
PHOTO_FIELDS = [f"photo{number}" for number in range(1, services.MAX_PHOTOS + 1)]


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation may give, declared so that the schema is exact."""
    return dict.fromkeys(statuses, ErrorOut)


def _max_length(name: str) -> int:
    """The letter form's own limit on a field (one rule for the page and the API)."""
    return LetterForm.base_fields[name].max_length


class TopicParams(ListParams):
    # The topic list's filters.
    community: int | None = Field(default=None, ge=1, le=MAX_PK)
    category: Category | None = None
    status: Topic.Status | None = None


class TopicRef(Schema):
    id: int
    title: str
    status: str
    status_label: str
    # Residents see a topic (GET /topics/{id}/) once staff approved its summary.
    public: bool


class LetterSummary(Schema):
    id: int
    tracking_number: str
    subject: str
    status: str
    status_label: str
    category: str
    category_label: str
    received_at: datetime.datetime
    topic: TopicRef | None


class LetterList(Schema):
    items: list[LetterSummary]
    next: str | None


class PhotoOut(Schema):
    id: int
    width: int
    height: int
    url: str


class TimelineStep(Schema):
    kind: str
    label: str
    at: datetime.datetime
    topic: str | None
    message: str


class LetterDetail(LetterSummary):
    body: str
    channel: str
    channel_label: str
    community: str
    grid: str
    place: str
    contact_name: str
    contact: str
    satisfied: bool | None
    # The one satisfaction question is open: POST /me/letters/{id}/satisfaction/ takes the answer.
    ask_satisfaction: bool
    photos: list[PhotoOut]
    timeline: list[TimelineStep]


class LetterIn(Schema):
    """The letter form's fields (photos come as the repeated file field `photos`)."""

    subject: str = Field(max_length=_max_length("subject"))
    body: str = Field(max_length=_max_length("body"))
    category: Category
    community: int = Field(ge=1, le=MAX_PK)
    grid: int | None = Field(default=None, ge=1, le=MAX_PK)
    place: str = Field(default="", max_length=_max_length("place"))
    privacy: Letter.Privacy = Letter.Privacy.STAFF_ONLY


class SatisfactionIn(Schema):
    satisfied: Literal["yes", "no"]


class TopicOut(Schema):
    id: int
    title: str
    summary: str
    community_id: int
    community: str
    category: str
    category_label: str
    status: str
    status_label: str
    status_changed_at: datetime.datetime
    support_count: int
    accepts_support: bool
    # Whether the resident asking supports it (false without a token).
    supported: bool


class TopicList(Schema):
    items: list[TopicOut]
    next: str | None


class TopicDetail(TopicOut):
    rejection_reason: str
    raised_by_residents: int
    raised_by_households: int
    support_threshold: int
    # The resident wrote one of its letters: that counts as raising it, so they cannot support it too.
    wrote_about: bool


# ---------------------------------------------------------------------------
# Letters


def _topic_ref(topic: Topic | None) -> dict | None:
    if topic is None:
        return None
    return {
        "id": topic.pk,
        "title": topic.display_title,
        "status": topic.status,
        "status_label": str(topic.get_status_display()),
        "public": topic.is_public,
    }


def _letter_summary(letter: Letter) -> dict:
    return {
        "id": letter.pk,
        "tracking_number": letter.tracking_number,
        "subject": letter.subject,
        "status": letter.status,
        "status_label": str(letter.get_status_display()),
        "category": letter.category,
        "category_label": str(letter.get_category_display()),
        "received_at": letter.received_at,
        "topic": _topic_ref(letter.topic),
    }


def _letter_detail(letter: Letter) -> dict:
    """The letter as its follow page shows it to its writer: the letter, its photos and its timeline."""
    data = _letter_summary(letter)
    data.update(
        body=letter.body,
        channel=letter.channel,
        channel_label=str(letter.get_channel_display()),
        community=i18n.label(letter.community),
        grid=i18n.label(letter.grid),
        place=letter.place,
        contact_name=letter.contact_name,
        contact=letter.contact,
        satisfied=letter.satisfied,
        ask_satisfaction=letter.awaits_satisfaction,
        photos=[
            {"id": p.pk, "width": p.width, "height": p.height, "url": f"/api/v1/me/letters/{letter.pk}/photos/{p.pk}/"}
            for p in letter.photos.only("pk", "width", "height")
        ],
        timeline=[
            {
                "kind": event.kind,
                "label": event.describe(),
                "at": event.created_at,
                "topic": event.topic.display_title if event.topic else None,
                "message": event.message,
            }
            for event in letter.events.select_related("topic")
        ],
    )
    return data


def _own_letter(request: HttpRequest, letter_id: int) -> Letter:
    """Another resident's letter is answered 404, as one that does not exist: its id tells nothing."""
    letter = Letter.objects.select_related("topic", "community", "grid").filter(pk=letter_id, writer=request.auth).first()
    if letter is None:
        raise Http404
    return letter


@router.get(
    "/me/letters/",
    response={200: LetterList, **errors(400, 401, 422, 429)},
    auth=resident_auth,
    summary="The resident's letters, newest first",
)
def my_letters(request: HttpRequest, params: Query[ListParams]):
    letters = Letter.objects.filter(writer=request.auth).select_related("topic").order_by("-received_at", "-pk")
    page, following = page_of(letters, params.cursor, params.limit)
    return json_with_etag(request, {"items": [_letter_summary(each) for each in page], "next": following})


@router.post(
    "/me/letters/",
    response={200: LetterDetail, 201: LetterDetail, **errors(400, 401, 403, 409, 413, 422, 429)},
    auth=resident_auth,
    summary="Write a letter, with up to 3 photos (multipart/form-data)",
    description="The letter form's fields, and up to 3 photos as the repeated file field `photos` (JPEG, PNG, "
    "WebP or HEIC, at most 8 MB each; they are kept without their metadata). Send an Idempotency-Key (a UUID) "
    "to make the upload safe to retry: a replay returns the letter it stored, with 200, and stores nothing more.",
)
def write_letter(
    request: HttpRequest,
    payload: Form[LetterIn],
    photos: File[list[UploadedFile]] = None,
    idempotency_key: Annotated[uuid.UUID | None, Header(alias="Idempotency-Key")] = None,
):
    if request.POST.getlist("photos"):  # text where files belong: say so rather than drop them silently
        raise invalid({"photos": _("Send each photo as a file.")})
    photos = list(photos or [])
    data = payload.dict()
    data.update(grid=payload.grid or "", category=payload.category.value, privacy=payload.privacy.value)
    # The page's form checks the fields as on the page (the community exists, the grid is in it, a photo is a file).
    form = LetterForm(data, dict(zip(PHOTO_FIELDS, photos, strict=False)), anonymous=False)
    if not form.is_valid():
        raise invalid(form_errors(form, rename=lambda name: "photos" if name in PHOTO_FIELDS else name))
    fields = form.cleaned_data
    try:
        # One transaction: a retry sent while the first try still runs waits for it (the service locks the
        # writer's row), then finds its letter.
        with transaction.atomic():
            replayed = idempotency_key and services.replayed_letter(request_token=idempotency_key, writer=request.auth)
            letter = replayed or services.submit_letter(
                channel=Letter.Channel.WEB,
                writer=request.auth,
                subject=fields["subject"],
                body=fields["body"],
                category=fields["category"],
                community=fields["community"],
                grid=fields["grid"],
                place=fields["place"],
                privacy=fields["privacy"],
                language=translation.get_language(),
                photos=photos,  # all of them: the service refuses more than it takes, before reading any
                address=client_address(request),
                request_token=idempotency_key,
            )
    except services.PhotoError as error:
        raise invalid({"photos": str(error)}) from error
    return Status(200 if replayed else 201, _letter_detail(_own_letter(request, letter.pk)))


@router.get(
    "/me/letters/{letter_id}/",
    response={200: LetterDetail, **errors(400, 401, 404, 422, 429)},
    auth=resident_auth,
    summary="One of the resident's letters with its timeline",
)
def get_letter(request: HttpRequest, letter_id: Id):
    return json_with_etag(request, _letter_detail(_own_letter(request, letter_id)))


PHOTO_CONTENT = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/me/letters/{letter_id}/photos/{photo_id}/",
    response=errors(400, 401, 404, 422, 429),
    auth=resident_auth,
    summary="A photo of one of the resident's letters (JPEG or PNG, as kept)",
    openapi_extra={
        "responses": {"200": {"description": "The photo", "content": {"image/jpeg": PHOTO_CONTENT, "image/png": PHOTO_CONTENT}}}
    },
)
def letter_photo(request: HttpRequest, letter_id: Id, photo_id: Id):
    photo = LetterPhoto.objects.filter(pk=photo_id, letter=_own_letter(request, letter_id)).first()
    if photo is None:
        raise Http404
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"  # as the letter page serves it
    response["Content-Disposition"] = "inline"
    return response


@router.post(
    "/me/letters/{letter_id}/satisfaction/",
    response={200: LetterDetail, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    auth=resident_auth,
    summary="Answer the satisfaction question of a closed letter (once)",
)
def answer_satisfaction(request: HttpRequest, letter_id: Id, payload: SatisfactionIn):
    letter = _own_letter(request, letter_id)
    form = SatisfactionForm({"satisfied": payload.satisfied})
    if not form.is_valid():
        raise invalid(form_errors(form))
    services.record_satisfaction(letter=letter, writer=request.auth, satisfied=form.cleaned_data["satisfied"])
    return _letter_detail(_own_letter(request, letter_id))


# ---------------------------------------------------------------------------
# Topics


def _topic(topic: Topic, *, supported: bool) -> dict:
    return {
        "id": topic.pk,
        "title": topic.display_title,
        "summary": topic.display_summary,
        "community_id": topic.community_id,
        "community": i18n.label(topic.community),
        "category": topic.category,
        "category_label": str(topic.get_category_display()),
        "status": topic.status,
        "status_label": str(topic.get_status_display()),
        "status_changed_at": topic.status_changed_at,
        "support_count": topic.support_count,
        "accepts_support": topic.accepts_support,
        "supported": supported,
    }


def _topic_detail(topic: Topic, resident) -> dict:
    """The topic as its page shows it: counts of who raised it, its support and the threshold."""
    residents, households = services.raised_by(topic)
    supported = resident.is_authenticated and Support.objects.filter(topic=topic, resident=resident).exists()
    data = _topic(topic, supported=supported)
    data.update(
        rejection_reason=topic.rejection_reason if topic.status == Topic.Status.REJECTED else "",
        raised_by_residents=residents,
        raised_by_households=households,
        support_threshold=services.support_threshold(topic.community),
        wrote_about=services.wrote_about(topic=topic, resident=resident),
    )
    return data


def _public_topic(topic_id: int) -> Topic:
    """A topic whose summary staff have not approved is not found, as on its page."""
    topic = services.public_topics().filter(pk=topic_id).first()
    if topic is None:
        raise Http404
    return topic


@router.get(
    "/topics/",
    response={200: TopicList, **errors(400, 422, 429)},
    summary="Public topics, latest change first",
    description="As the topic list: `community`, `category` and `status` filter it; with a session token, "
    "`supported` says whether the resident supports each.",
)
def list_topics(request: HttpRequest, params: Query[TopicParams]):
    topics = services.public_topics(
        community=params.community,
        category=params.category.value if params.category else "",
        status=params.status.value if params.status else "",
    )
    page, following = page_of(topics, params.cursor, params.limit)
    resident = optional_resident(request)
    supported = set()
    if resident.is_authenticated and page:
        supported = set(
            Support.objects.filter(resident=resident, topic__in=[each.pk for each in page]).values_list("topic_id", flat=True)
        )
    items = [_topic(each, supported=each.pk in supported) for each in page]
    return json_with_etag(request, {"items": items, "next": following})


@router.get(
    "/topics/{topic_id}/",
    response={200: TopicDetail, **errors(400, 404, 422, 429)},
    summary="A public topic with its support",
)
def get_topic(request: HttpRequest, topic_id: Id):
    return json_with_etag(request, _topic_detail(_public_topic(topic_id), optional_resident(request)))


@router.post(
    "/topics/{topic_id}/support/",
    response={201: TopicDetail, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    auth=resident_auth,
    summary="Support a topic (once; open and shortlisted topics)",
)
def support(request: HttpRequest, topic_id: Id):
    services.support_topic(topic=_public_topic(topic_id), resident=request.auth)
    return Status(201, _topic_detail(_public_topic(topic_id), request.auth))


@router.post(
    "/topics/{topic_id}/support/withdraw/",
    response={200: TopicDetail, **errors(400, 401, 404, 409, 413, 422, 429)},
    auth=resident_auth,
    summary="Withdraw one's support of a topic",
)
def withdraw(request: HttpRequest, topic_id: Id):
    services.withdraw_support(topic=_public_topic(topic_id), resident=request.auth)
    return _topic_detail(_public_topic(topic_id), request.auth)
