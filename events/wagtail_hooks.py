"""Admin: the "Classes and activities" menu, staff pages for sessions, a page button and a dashboard panel."""

from django.urls import include, path, reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, SubmenuMenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.menus import MenuItem as DropdownItem

from api.core import API_ROUTERS, ApiSection, Link, Problem
from home.scope import StaffMenuItem, StaffScope, for_request, for_user
from home.sections import HOME_SECTIONS, HomeSection

from . import admin_views as views
from . import api
from .listing import home_section
from .models import ActivityPage
from .services import BookingError

urlpatterns = [
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("sessions/<int:session_id>/", views.RosterView.as_view(), name="roster"),
    path("sessions/<int:session_id>/roster.csv", views.ExportCsvView.as_view(), name="export_csv"),
    path("sessions/<int:session_id>/roster.xlsx", views.ExportXlsxView.as_view(), name="export_xlsx"),
    path("sessions/<int:session_id>/book/", views.BookResidentView.as_view(), name="book_resident"),
    path("sessions/<int:session_id>/walk-in/", views.WalkInView.as_view(), name="walk_in"),
    path("sessions/<int:session_id>/seats/", views.CapacityView.as_view(), name="capacity"),
    path("sessions/<int:session_id>/draw/", views.DrawView.as_view(), name="draw"),
    path("sessions/<int:session_id>/cancel/", views.CancelSessionView.as_view(), name="cancel_session"),
    path("sessions/<int:session_id>/email/", views.EmailParticipantsView.as_view(), name="email"),
    path("sessions/<int:session_id>/check-in/", views.CheckInView.as_view(), name="check_in"),
    path("sessions/<int:session_id>/bookings/<int:booking_id>/promote/", views.PromoteView.as_view(), name="promote"),
    path(
        "sessions/<int:session_id>/bookings/<int:booking_id>/check-in/",
        views.CheckInBookingView.as_view(),
        name="check_in_booking",
    ),
    path(
        "sessions/<int:session_id>/bookings/<int:booking_id>/undo-check-in/",
        views.UndoCheckInView.as_view(),
        name="undo_check_in",
    ),
    path("sessions/<int:session_id>/bookings/<int:booking_id>/cancel/", views.CancelBookingView.as_view(), name="cancel_booking"),
    path("activities/", views.ActivityListView.as_view(), name="activities"),
    path("activities/<int:page_id>/sessions/add/", views.AddSessionsView.as_view(), name="add_sessions"),
]


@hooks.register("register_admin_urls")
def register_events_admin_urls():
    return [path("events/", include((urlpatterns, "events_admin"), namespace="events_admin"))]


@hooks.register("register_log_actions")
def register_events_log_actions(actions):
    from .audit import AUDIT

    AUDIT.register(actions)


@hooks.register("register_admin_menu_item")
def register_events_menu():
    menu = Menu(
        items=[
            StaffMenuItem(
                _("Sessions"), reverse_lazy("events_admin:sessions"), name="event-sessions", icon_name="date", order=100
            ),
            StaffMenuItem(
                _("Add sessions"), reverse_lazy("events_admin:activities"), name="event-add-sessions", icon_name="plus", order=200
            ),
        ]
    )
    return SubmenuMenuItem(_("Classes and activities"), menu, name="events", icon_name="date", order=260)


def _scope_of(user) -> StaffScope:
    """Wagtail hands the page listing's button hooks the user, not the request: the scope is kept on the user
    object (the request's user) so that a listing of many activities asks for it once."""
    scope = getattr(user, "_events_staff_scope", None)
    if scope is None:
        scope = user._events_staff_scope = for_user(user)
    return scope


@hooks.register("register_page_listing_more_buttons")
def add_sessions_button(page, user, next_url=None):
    if page.specific_class is ActivityPage and _scope_of(user).any:
        yield DropdownItem(_("Add sessions"), reverse("events_admin:add_sessions", args=[page.pk]), icon_name="date", priority=90)


class AttendancePanel(Component):
    """Fill rate, attendance rate and no-shows per month and per activity, as server-side SVG charts."""

    name = "event_attendance"
    template_name = "events/admin/dashboard_panel.html"
    order = 150

    class Media:
        css = {"all": ["events/admin.css"]}

    def __init__(self, scope: StaffScope):
        self.scope = scope

    def get_context_data(self, parent_context):
        figures = views.attendance_figures(self.scope)
        return {
            "per_month": figures["per_month"],
            "per_activity": figures["per_activity"],
            "month_chart": views.rates_chart(
                figures["per_month"], key="events-chart-month", title=_("Fill and attendance rates per month")
            ),
            "activity_chart": views.rates_chart(
                figures["per_activity"], key="events-chart-activity", title=_("Fill and attendance rates per activity")
            ),
            "sessions_url": reverse("events_admin:sessions"),
        }


@hooks.register("construct_homepage_panels")
def add_attendance_panel(request, panels):
    scope = for_request(request)
    if scope.any:
        panels.append(AttendancePanel(scope))


@hooks.register(HOME_SECTIONS, order=10)
def coming_up_on_the_home_page() -> HomeSection:
    return HomeSection(template="events/home_section.html", context=home_section)


@hooks.register(API_ROUTERS)
def activities_api() -> ApiSection:
    # A booking the rules refuse (full, overlapping, suspended, already cancelled) conflicts with the state: 409.
    booking = {"booking_id": "$response.body#/id"}
    return ApiSection(
        prefix="",
        router=api.router,
        errors={BookingError: Problem(409, "booking_refused")},
        links=[
            Link(api.list_activities, api.get_activity, {"activity_id": "$response.body#/items/0/id"}),
            Link(api.get_activity, api.book, {"session_id": "$response.body#/sessions/0/id"}),
            Link(api.my_bookings, api.get_booking, {"booking_id": "$response.body#/items/0/id"}),
            *(
                Link(source, target, {"member_id": f"$response.body#{where}"}, status=status)
                for source, where, status in ((api.my_household, "/items/0/id", 200), (api.add_member, "/id", 201))
                for target in (api.change_member, api.remove_member)
            ),
            *(
                Link(api.book, target, booking, status=status)
                for status in (200, 201)
                for target in (api.get_booking, api.cancel, api.ticket)
            ),
        ],
    )
