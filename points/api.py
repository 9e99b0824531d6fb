"""The API of a resident's points (/api/v1/me/points/, /rewards/, /me/reservations/): the pages' queries
(listing.py) and services (services.py), answered as JSON. No rule lives here."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema, Status

from api.core import ApiError, ErrorOut, ListParams, decode_cursor, encode_cursor, json_with_etag, page_of, resident_auth
from home.i18n import label
from plumbing.parsing import MAX_PK
from plumbing.qr import qr_svg

from . import services
from .listing import (
    can_exchange,
    describe,
    expiring_soon,
    pickup_url,
    reservations_of,
    rewards_for,
    statement_entries,
)
from .models import Account, LedgerEntry, Reservation, Reward

router = Router(tags=["points"], auth=resident_auth)

Id = Annotated[int, Path(ge=1, le=MAX_PK)]

# The errors every operation here can answer: no token (401), input that does not fit (422), too many requests.
ERRORS = {401: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class ExpiringOut(Schema):
    expires_on: datetime.date
    points: int


class PointsOut(Schema):
    balance: int
    volunteer_hours: float
    honours_opt_in: bool
    # What expires when, soonest first; and of it, what expires within 30 days (the overview's warning).
    expiring: list[ExpiringOut]
    expiring_soon: list[ExpiringOut]


class EntryOut(Schema):
    id: int
    created_at: datetime.datetime
    kind: str
    kind_label: str
    amount: int
    balance_after: int
    description: str


class Statement(Schema):
    items: list[EntryOut]
    next: str | None


class RewardOut(Schema):
    id: int
    name: str
    description: str
    cost: int
    stock: int
    monthly_limit: int | None
    at_monthly_limit: bool
    # In stock, affordable with the balance, within the monthly limit (the pages' "Exchange" button).
    can_exchange: bool
    available_until: datetime.date | None
    pickup_place: str
    pickup_hours: str
    reservation_url: str


class RewardList(Schema):
    items: list[RewardOut]
    next: str | None


class ReservationOut(Schema):
    id: int
    reward_id: int
    reward: str
    cost: int
    status: str
    status_label: str
    code: str
    display_code: str
    created_at: datetime.datetime
    collect_by: datetime.datetime
    collected_at: datetime.datetime | None
    pickup_place: str
    pickup_hours: str


class ReservationList(Schema):
    items: list[ReservationOut]
    next: str | None


class Pickup(Schema):
    code: str
    display_code: str
    qr_svg: str
    collect_by: datetime.datetime
    pickup_place: str
    pickup_hours: str


# ---------------------------------------------------------------------------
# Balance and statement


def _expiring(items: list[services.Expiring]) -> list[dict]:
    return [{"expires_on": item.expires_on, "points": item.points} for item in items]


@router.get("/me/points/", response={200: PointsOut, **ERRORS}, summary="The resident's balance and what expires when")
def my_points(request: HttpRequest):
    account = services.get_account(resident=request.auth)
    expiring = services.expiring_points(account=account)
    data = {
        "balance": account.balance,
        "volunteer_hours": float(account.volunteer_hours),
        "honours_opt_in": account.honours_opt_in,
        "expiring": _expiring(expiring),
        "expiring_soon": _expiring(expiring_soon(expiring)),
    }
    return json_with_etag(request, data)


def _entry(entry: LedgerEntry) -> dict:
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "kind": entry.kind,
        "kind_label": str(entry.get_kind_display()),
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "description": entry.description,
    }


@router.get(
    "/me/points/statement/",
    response={200: Statement, 400: ErrorOut, **ERRORS},
    summary="The resident's ledger entries, newest first",
)
def statement(request: HttpRequest, params: Query[ListParams]):
    account = services.get_account(resident=request.auth)
    # Paged by the last entry seen, as the statement page does (`before`): new entries at the top do not shift
    # the pages a client is reading. The cursor stays opaque all the same.
    entries = statement_entries(
        account, before=decode_cursor(params.cursor, "before", lowest=1, highest=MAX_PK), limit=params.limit + 1
    )
    page = describe(entries[: params.limit])
    following = encode_cursor(page[-1].pk, "before") if len(entries) > params.limit else None
    return json_with_etag(request, {"items": [_entry(each) for each in page], "next": following})


# ---------------------------------------------------------------------------
# Rewards


def _reward(reward: Reward, account: Account) -> dict:
    return {
        "id": reward.pk,
        "name": label(reward),
        "description": label(reward, "description"),
        "cost": reward.cost,
        "stock": reward.stock,
        "monthly_limit": reward.monthly_limit,
        "at_monthly_limit": reward.at_monthly_limit,
        "can_exchange": can_exchange(reward, account),
        "available_until": reward.available_until,
        "pickup_place": label(reward, "pickup_place"),
        "pickup_hours": label(reward, "pickup_hours"),
        "reservation_url": f"/api/v1/rewards/{reward.pk}/reservations/",
    }


@router.get(
    "/rewards/",
    response={200: RewardList, 400: ErrorOut, **ERRORS},
    summary="Rewards the resident may exchange today, cheapest first",
)
def list_rewards(request: HttpRequest, params: Query[ListParams]):
    account = services.get_account(resident=request.auth)
    rewards, following = page_of(rewards_for(request.auth), params.cursor, params.limit)
    return json_with_etag(request, {"items": [_reward(each, account) for each in rewards], "next": following})


@router.get("/rewards/{reward_id}/", response={200: RewardOut, 404: ErrorOut, **ERRORS}, summary="One reward")
def get_reward(request: HttpRequest, reward_id: Id):
    """A reward of the resident's list: another community's, an inactive or an unavailable one is not found."""
    reward = next((each for each in rewards_for(request.auth) if each.pk == reward_id), None)
    if reward is None:
        raise Http404
    return json_with_etag(request, _reward(reward, services.get_account(resident=request.auth)))


# ---------------------------------------------------------------------------
# Reservations


def _reservation(reservation: Reservation) -> dict:
    reward = reservation.reward
    return {
        "id": reservation.pk,
        "reward_id": reward.pk,
        "reward": label(reward),
        "cost": reservation.cost,
        "status": reservation.status,
        "status_label": str(reservation.get_status_display()),
        "code": reservation.code,
        "display_code": services.format_code(reservation.code),
        "created_at": reservation.created_at,
        "collect_by": reservation.collect_by,
        "collected_at": reservation.collected_at,
        "pickup_place": label(reward, "pickup_place"),
        "pickup_hours": label(reward, "pickup_hours"),
    }


@router.post(
    "/rewards/{reward_id}/reservations/",
    response={200: ReservationOut, 201: ReservationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, **ERRORS},
    summary="Reserve a reward: its points are spent at once",
    description="Send an Idempotency-Key (a UUID) to make the request safe to retry: a replay returns the "
    "reservation it made, with 200, and spends nothing more.",
)
def reserve(
    request: HttpRequest,
    reward_id: Id,
    idempotency_key: Annotated[uuid.UUID | None, Header(alias="Idempotency-Key")] = None,
):
    resident = request.auth
    reward = Reward.objects.filter(pk=reward_id).first()
    if reward is None:
        raise Http404
    replay = idempotency_key is not None and Reservation.objects.filter(request_token=idempotency_key).exists()
    reservation = services.redeem(resident=resident, reward=reward, request_token=idempotency_key)
    reservation = Reservation.objects.select_related("reward").get(pk=reservation.pk)
    return Status(200 if replay else 201, _reservation(reservation))


@router.get(
    "/me/reservations/",
    response={200: ReservationList, 400: ErrorOut, **ERRORS},
    summary="The resident's reservations, latest first (cancelled ones left out, as on the pages)",
)
def my_reservations(request: HttpRequest, params: Query[ListParams]):
    reservations, following = page_of(reservations_of(request.auth).select_related("reward"), params.cursor, params.limit)
    return json_with_etag(request, {"items": [_reservation(each) for each in reservations], "next": following})


def _own_reservation(request: HttpRequest, reservation_id: int) -> Reservation:
    """Another resident's reservation is answered 404, as one that does not exist: its id tells nothing."""
    reservation = Reservation.objects.select_related("reward").filter(pk=reservation_id, resident=request.auth).first()
    if reservation is None:
        raise Http404
    return reservation


@router.get(
    "/me/reservations/{reservation_id}/",
    response={200: ReservationOut, 404: ErrorOut, **ERRORS},
    summary="One of the resident's reservations",
)
def get_reservation(request: HttpRequest, reservation_id: Id):
    return json_with_etag(request, _reservation(_own_reservation(request, reservation_id)))


@router.post(
    "/me/reservations/{reservation_id}/cancel/",
    response={200: ReservationOut, 404: ErrorOut, 409: ErrorOut, **ERRORS},
    summary="Cancel a reservation waiting for pickup: its points come back",
)
def cancel(request: HttpRequest, reservation_id: Id):
    reservation = _own_reservation(request, reservation_id)
    services.cancel_reservation(reservation=reservation, actor=request.auth)
    return _reservation(Reservation.objects.select_related("reward").get(pk=reservation.pk))


@router.get(
    "/me/reservations/{reservation_id}/pickup/",
    response={200: Pickup, 404: ErrorOut, 409: ErrorOut, **ERRORS},
    summary="The pick-up code and its QR code (SVG), while the reservation waits for pickup",
)
def pickup(request: HttpRequest, reservation_id: Id):
    reservation = _own_reservation(request, reservation_id)
    if reservation.status != Reservation.Status.RESERVED:
        raise ApiError(409, "not_reserved", _("Only a reservation waiting for pickup has a pick-up code."))
    display_code = services.format_code(reservation.code)
    reward = reservation.reward
    data = {
        "code": reservation.code,
        "display_code": display_code,
        "qr_svg": qr_svg(pickup_url(reservation.code), title=display_code),  # the reservation page's QR
        "collect_by": reservation.collect_by,
        "pickup_place": label(reward, "pickup_place"),
        "pickup_hours": label(reward, "pickup_hours"),
    }
    return json_with_etag(request, data)
