"""Who is staff where: the one answer every app asks ("may this person manage this community's things?").

A person's scope is every community for a superuser (the street office), the communities whose editors or
heads group they belong to, or nothing.

    scope = for_user(user)                   # or for_request(request): once per request
    scope.includes(letter.community)         # True / False
    scope.require(session.activity.community, street_wide=True)   # or NotStaff, a PermissionDenied
    scope.filter(Letter.objects.all(), "community")               # what the person may manage

`street_wide=True` lets any staff member act on things that belong to no community (the street's own
activities); without it only the street office may. Council roles (chair, secretary) are the council's own.

It reads only `home.models`, so plumbing (the outbox) and every domain app may use it.
"""

from __future__ import annotations

from functools import cached_property, wraps

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from wagtail.admin.menu import MenuItem, SubmenuMenuItem

from .models import Community


class NotStaff(PermissionDenied):
    """The person acting is not staff of the community concerned (or of any community)."""


class StaffScope:
    """What one person may manage (see the module docstring)."""

    def __init__(self, user) -> None:
        self.user = user
        self.active = bool(user is not None and user.is_authenticated and user.is_active)
        self.everything = self.active and user.is_superuser

    @cached_property
    def keys(self) -> frozenset:
        """The ids of the person's communities (empty for the street office: it has all)."""
        if not self.active or self.everything:
            return frozenset()
        groups = Q(editors__user=self.user) | Q(heads__user=self.user)
        return frozenset(Community.objects.filter(groups).values_list("pk", flat=True).distinct())

    @property
    def any(self) -> bool:
        """Staff of some community (or the street office)."""
        return self.everything or bool(self.keys)

    def communities(self) -> QuerySet[Community]:
        """The person's communities."""
        if self.everything:
            return Community.objects.all()
        return Community.objects.filter(pk__in=self.keys)

    def includes(self, community: Community | None, *, street_wide: bool = False) -> bool:
        if self.everything:
            return True
        if community is None:
            return street_wide and self.any
        return community.pk in self.keys

    def require(self, community: Community | None, *, street_wide: bool = False, message: str = "") -> None:
        if not self.includes(community, street_wide=street_wide):
            raise NotStaff(message or _("Only the staff of this community may do this."))

    def filter(self, queryset: QuerySet, path: str, *, street_wide: bool = False) -> QuerySet:
        """The rows of `queryset` whose community (reached by the lookup `path`) the person manages."""
        if self.everything:
            return queryset
        mine = Q(**{f"{path}__in": self.keys})
        if street_wide and self.any:
            mine |= Q(**{f"{path}__isnull": True})
        return queryset.filter(mine)


def for_user(user) -> StaffScope:
    """The person's scope; its communities are read once, when first needed."""
    return StaffScope(user)


def for_request(request) -> StaffScope:
    """The scope of the request's user, built once per request (the admin's menu, hooks and views all ask)."""
    scope = getattr(request, "_linli_staff_scope", None)
    if scope is None or scope.user is not request.user:
        scope = request._linli_staff_scope = StaffScope(request.user)
    return scope


def staff_communities(user) -> QuerySet[Community]:
    """The communities `user` manages: every one for a superuser, none for anonymous or
    inactive users (`for_user(user).communities()`)."""
    return for_user(user).communities()


def staff_only(message=None):
    """A view decorator: only staff of some community (or the street office) get in; others get a 403 saying
    `message` (a lazy translation)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not for_request(request).any:
                raise NotStaff(str(message) if message else _("Only community staff may open this page."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


class StaffMenuItem(MenuItem):
    """An admin menu entry shown to community staff (and superusers): every app's staff menus use it."""

    def is_shown(self, request):
        return for_request(request).any


class StaffSubmenu(SubmenuMenuItem):
    """An admin submenu shown to community staff (and superusers)."""

    def is_shown(self, request):
        return for_request(request).any
