from django.urls import path

from . import views

app_name = "mailbox"

urlpatterns = [
    path("mailbox/", views.topic_list, name="topic_list"),
    path("mailbox/write/", views.write_letter, name="write_letter"),
    path("mailbox/topics/<int:pk>/", views.topic_detail, name="topic_detail"),
    path("mailbox/topics/<int:pk>/support/", views.support_topic, name="support_topic"),
    path("mailbox/track/<str:tracking_number>/<str:key>/", views.track_letter, name="track_letter"),
    # A letter's own pages are under /me/: never cached, never indexed (robots.txt).
    path("me/letters/", views.my_letters, name="my_letters"),
    path("me/letters/<str:tracking_number>/", views.letter_detail, name="letter_detail"),
    path("me/letters/<str:tracking_number>/satisfaction/", views.letter_satisfaction, name="letter_satisfaction"),
    path("me/letters/<str:tracking_number>/photos/<int:pk>/", views.letter_photo, name="letter_photo"),
]
