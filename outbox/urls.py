from django.urls import path

from . import views

# Not "outbox": that is the Wagtail admin's namespace for the staff listing.
app_name = "notifications"

urlpatterns = [
    path("me/notifications/", views.preferences, name="preferences"),
    path("me/notifications/wechat/link/", views.wechat_link, name="wechat_link"),
    path("me/notifications/wechat/callback/", views.wechat_callback, name="wechat_callback"),
    path("me/notifications/wechat/unlink/", views.wechat_unlink, name="wechat_unlink"),
]
