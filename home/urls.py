from django.urls import path

from . import views

app_name = "home"

urlpatterns = [
    path("me/", views.profile, name="profile"),
    path("me/data.json", views.export_data, name="export_data"),
    path("me/delete/", views.delete_account, name="delete_account"),
    path("grids/<int:pk>/", views.grid_page, name="grid"),
    # What a grid's QR code opens (plumbing.links.absolute_url): sign-up, log-in or a move into the grid.
    path("grids/join/<str:token>/", views.join_grid, name="join_grid"),
    path("search/", views.search, name="search"),
    path("notices/feed.xml", views.NoticeFeed(), name="notice_feed"),
    # Not "privacy/": that is the URL of the privacy StandardPage itself, which this view redirects to.
    path("privacy-notice/", views.privacy, name="privacy"),
]
