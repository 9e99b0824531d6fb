"""Staff see the messages to residents of their communities (superusers: all), filter them by status, and
send a failed one again. The listing is read-only: messages change only through the outbox's services."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy

from home.scope import for_request, for_user

from . import admin_views, services
from .models import Message


class MessagePermissionPolicy(BasePermissionPolicy):
    """Viewing only, for community staff and superusers."""

    def user_has_permission(self, user, action):
        return action == "view" and for_user(user).any

    def user_has_permission_for_instance(self, user, action, instance):
        return action == "view" and services.visible_messages(scope=for_user(user)).filter(pk=instance.pk).exists()

    def instances_user_has_permission_for(self, user, action):
        return services.visible_messages(scope=for_user(user)) if action == "view" else Message.objects.none()


register_permission_policy(Message, MessagePermissionPolicy(Message))


class MessageIndexView(IndexView):
    def get_base_queryset(self):
        return services.visible_messages(scope=for_request(self.request)).select_related("recipient")

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status in (Message.Status.FAILED, Message.Status.CANCELLED):
            buttons.append(MenuItem(_("Send again"), url=reverse("outbox_resend", args=[instance.pk]), icon_name="mail"))
        if instance.recipient_id:
            buttons.append(
                MenuItem(
                    _("All messages to this resident"),
                    url=reverse("outbox_resident", args=[instance.recipient_id]),
                    icon_name="user",
                )
            )
        return buttons


class MessageViewSet(ModelViewSet):
    model = Message
    icon = "mail"
    menu_label = gettext_lazy("Outbox")
    menu_order = 900
    add_to_admin_menu = True
    # No "usage" to show for a message: without this every queued message would enqueue a task that indexes its
    # recipient (Wagtail's reference index), a row and a worker's job per message.
    add_to_reference_index = False
    index_view_class = MessageIndexView
    inspect_view_enabled = True
    form_fields = ["kind"]  # never shown: the permission policy allows viewing only
    list_display = ["kind_label", "address", "channel", "status", "attempts", "created_at", "sent_at", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["address", "kind", "subject"]
    inspect_view_fields = [
        "kind", "recipient", "address", "channel", "language", "status", "attempts", "next_attempt_at",
        "last_error", "created_at", "sent_at", "subject", "body",
    ]  # fmt: skip


@hooks.register("register_admin_viewset")
def register_outbox_viewset():
    return MessageViewSet("outbox")


def resend(request, pk: int):
    message = get_object_or_404(services.visible_messages(scope=for_request(request)), pk=pk)
    if request.method == "POST":
        try:
            services.resend_message(message=message, actor=request.user)
        except services.OutboxError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The message to %(address)s will be sent again.") % {"address": message.address})
        back = request.POST.get("next", "")
        # A path on this site only: redirect() would take any other word for a view name to reverse.
        if back.startswith("/") and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(back)
        return redirect("outbox:index")
    return render(request, "outbox/resend.html", {"message": message})


@hooks.register("register_admin_urls")
def register_resend_url():
    return [
        path("outbox-resend/<int:pk>/", resend, name="outbox_resend"),
        path("outbox-resident/<int:user_id>/", admin_views.resident_messages, name="outbox_resident"),
    ]
