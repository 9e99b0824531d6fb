from django.urls import path

from . import views

app_name = "home"

urlpatterns = [
    path("me/", views.profile, name="profile"),
    path("me/data.json", views.export_data, name="export_data"),
    path("me/delete/", views.delete_account, name="delete_account"),
    path("search/", views.search, name="search"),
    path("notices/feed.xml", views.NoticeFeed(), name="notice_feed"),
    # Not "privacy/": that is the URL of the privacy StandardPage itself, which this view redirects to.
    path("privacy-notice/", views.privacy, name="privacy"),
]
