"""Staff see every message to one resident, on every channel, and send a failed one again."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from home.services import staff_communities, verified_phone

from . import services
from .kinds import TOPICS

RESIDENT_MESSAGES = 200


def is_outbox_staff(user) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or staff_communities(user).exists())


def visible_residents(user):
    """The people whose messages `user` may see: everyone for a superuser, else their communities' residents."""
    people = get_user_model().objects.select_related("profile")
    if user.is_superuser:
        return people
    return people.filter(profile__community__in=staff_communities(user))


def resident_messages(request: HttpRequest, user_id: int) -> HttpResponse:
    if not is_outbox_staff(request.user):
        raise PermissionDenied
    resident = get_object_or_404(visible_residents(request.user), pk=user_id)
    messages = list(services.visible_messages(user=request.user).filter(recipient=resident)[:RESIDENT_MESSAGES])
    choices = services.channel_choices(resident)
    labels = dict(services.Message.Channel.choices)
    profile = getattr(resident, "profile", None)
    context = {
        "page_title": _("Messages to %(name)s") % {"name": (profile and profile.display_name) or resident.email or resident.pk},
        "header_icon": "mail",
        "resident": resident,
        "phone": verified_phone(resident),
        "wechat_linked": bool(profile and profile.wechat_openid),
        "messages_list": messages,
        "limit": RESIDENT_MESSAGES,
        "choices": [(topic.label, [str(labels[channel]) for channel in choices[topic.key]]) for topic in TOPICS],
    }
    context["header_title"] = context["page_title"]
    return render(request, "outbox/admin/resident.html", context)
