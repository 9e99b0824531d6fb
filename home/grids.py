"""What the grid page and the grid QR codes read: who may see a grid's page, its contacts and notices, and
what a scanned token names. State changes are in services.py (`current_join_code`, `rotate_join_code`,
`join_grid`).

A grid's page is for the residents whose profile is in the grid and for the staff of its community
(`home.scope`); for anybody else it does not exist (404), so that grid ids tell nothing.
"""

from __future__ import annotations

import re

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from .models import Grid, GridContact, GridJoinCode, NoticePage
from .scope import for_user

# The token of a join code (services._new_token: URL-safe base64); anything else is refused before any query.
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
PENDING_JOIN = "linli_grid_join"  # the session key of a code scanned before signing up or logging in
GRID_NOTICES = 10


def may_see(user, grid: Grid) -> bool:
    """A resident of the grid (their profile says so) or staff of its community."""
    if not user.is_authenticated:
        return False
    profile = getattr(user, "profile", None)
    if profile is not None and profile.grid_id == grid.pk:
        return True
    return for_user(user).includes(grid.community)


def grid_of_resident(user) -> Grid | None:
    profile = getattr(user, "profile", None) if user.is_authenticated else None
    return profile.grid if profile is not None and profile.grid_id else None


def contacts(grid: Grid) -> tuple[list[GridContact], list[GridContact]]:
    """The grid's workers and its building leaders, each in the order staff gave them."""
    rows = list(GridContact.objects.filter(grid=grid).order_by("order", "building", "pk"))
    workers = [row for row in rows if row.role == GridContact.Role.WORKER]
    leaders = [row for row in rows if row.role == GridContact.Role.BUILDING_LEADER]
    return workers, leaders


def notices(grid: Grid, locale) -> QuerySet[NoticePage]:
    """The current notices a grid's residents should read on its page: those for this grid first, then those for
    its whole community; not those for another grid of the community, nor the street's (the home page has them)."""
    today = timezone.localdate()
    return (
        NoticePage.objects.live()
        .filter(locale=locale, community_id=grid.community_id)
        .filter(Q(grid__isnull=True) | Q(grid=grid))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=today))
        .select_related("community")
        .annotate(for_this_grid=Case(When(grid=grid, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-for_this_grid", "-pinned", "-publication_date", "-pk")[:GRID_NOTICES]
    )


def find_code(token: str) -> GridJoinCode | None:
    """The join code of a scanned token (current or replaced), with its grid and community; None when the token
    is malformed or unknown."""
    if not TOKEN.fullmatch(token or ""):
        return None
    return GridJoinCode.objects.select_related("grid__community").filter(token=token).first()
