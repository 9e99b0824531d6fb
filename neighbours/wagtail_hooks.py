"""Admin: the staff's "Neighbour help" menu (reports, posts, posting for a resident, dashboard), the audit actions,
and the grid page's section (home/sections.py: GRID_SECTIONS)."""

from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu

from home.scope import StaffMenuItem, StaffSubmenu
from home.sections import GRID_SECTIONS, GridSection

from . import admin_views as views
from .listing import grid_section

urlpatterns = [
    path("", views.queue, name="queue"),
    path("reports/<int:report_id>/", views.moderate, name="moderate"),
    path("posts/", views.post_list, name="posts"),
    path("posts/<int:post_id>/", views.post_page, name="post"),
    path("on-behalf/", views.on_behalf, name="on_behalf"),
    path("dashboard/", views.dashboard, name="dashboard"),
]


@hooks.register("register_admin_urls")
def register_neighbours_admin_urls():
    return [path("neighbours/", include((urlpatterns, "neighbours_admin"), namespace="neighbours_admin"))]


@hooks.register("register_admin_menu_item")
def register_neighbours_menu():
    menu = Menu(
        items=[
            StaffMenuItem(
                _("Reports"), reverse_lazy("neighbours_admin:queue"), name="neighbour-reports", icon_name="warning", order=100
            ),
            StaffMenuItem(
                _("Posts"), reverse_lazy("neighbours_admin:posts"), name="neighbour-posts", icon_name="list-ul", order=200
            ),
            StaffMenuItem(
                _("Post for a resident"),
                reverse_lazy("neighbours_admin:on_behalf"),
                name="neighbour-on-behalf",
                icon_name="plus",
                order=300,
            ),
            StaffMenuItem(
                _("Dashboard"),
                reverse_lazy("neighbours_admin:dashboard"),
                name="neighbour-dashboard",
                icon_name="table",
                order=400,
            ),
        ]
    )
    return StaffSubmenu(_("Neighbour help"), menu, name="neighbours", icon_name="group", order=270)


@hooks.register("register_log_actions")
def register_neighbours_log_actions(actions):
    from .audit import AUDIT

    AUDIT.register(actions)


@hooks.register(GRID_SECTIONS, order=10)
def open_posts_on_the_grid_page() -> GridSection:
    return GridSection(template="neighbours/grid_section.html", context=grid_section)
