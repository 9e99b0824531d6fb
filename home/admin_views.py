"""Wagtail's page explorer and page chooser, opened by a page id, answer 404 for a page the user may not see.

Wagtail shows the page whose children are listed by its title (header and breadcrumbs), and
page ids are sequential, so another community's draft would show its title by id. These
wrap Wagtail's own views; site/linli/urls.py puts them before Wagtail's admin URLs. The
listed children are narrowed by the hooks in wagtail_hooks.py.
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from wagtail.admin.views import chooser
from wagtail.admin.viewsets.pages import page_viewset_registry
from wagtail.models import Page

from .services import pages_visible_in_admin


def visible_parent_page(view):
    @wraps(view)
    def guarded(request: HttpRequest, parent_page_id: int, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not pages_visible_in_admin(Page.objects.filter(pk=parent_page_id), user=user).exists():
            raise Http404
        return view(request, *args, parent_page_id=parent_page_id, **kwargs)

    return guarded


urlpatterns = [
    path(
        "pages/<int:parent_page_id>/",
        visible_parent_page(page_viewset_registry.as_view("index", parent_page_id_kwarg="parent_page_id")),
    ),
    path(
        "pages/<int:parent_page_id>/results/",
        visible_parent_page(page_viewset_registry.as_view("index_results", parent_page_id_kwarg="parent_page_id")),
    ),
    path("choose-page/<int:parent_page_id>/", visible_parent_page(chooser.BrowseView.as_view())),
]
