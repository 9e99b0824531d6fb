"""Staff see every message to one resident, on every channel, and send a failed one again."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from home.scope import for_request, staff_only
from home.services import verified_phone

from . import services
from .kinds import TOPICS

RESIDENT_MESSAGES = 200


@staff_only()
def resident_messages(request: HttpRequest, user_id: int) -> HttpResponse:
    scope = for_request(request)
    people = get_user_model().objects.select_related("profile")
    resident = get_object_or_404(scope.filter(people, "profile__community"), pk=user_id)
    messages = list(services.visible_messages(scope=scope).filter(recipient=resident)[:RESIDENT_MESSAGES])
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
