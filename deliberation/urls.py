from django.urls import URLPattern, include, path

from . import views
from .views import council
from .views import followup as followup_views

app_name = "deliberation"


def members_portal(patterns: list[URLPattern]) -> list[URLPattern]:
    """The patterns under me/council/, each view behind `council.council_portal` (login, then TOTP where
    required): one place, so a view added to the portal cannot go without it."""
    return [URLPattern(p.pattern, council.council_portal(p.callback), p.default_args, p.name) for p in patterns]


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
    # The council: public sessions; members' portal under /me/ (never cached).
    path("council/", council.public_sessions, name="council_sessions"),
    path("council/sessions/<int:pk>/", council.public_session, name="council_session"),
    path(
        "me/council/",
        include(
            members_portal(
                [
                    path("", council.my_councils, name="my_councils"),
                    path("sessions/<int:pk>/", council.session_live, name="council_session_live"),
                    path("door/<int:session_pk>/<str:door_key>/", council.door, name="council_door"),
                    # The council's follow-up: minutes for members.
                    path("sessions/<int:pk>/minutes/", followup_views.member_minutes, name="member_minutes"),
                    path("sessions/<int:pk>/minutes/edit/", followup_views.edit_minutes, name="edit_minutes"),
                    path("sessions/<int:pk>/minutes/confirm/", followup_views.confirm_minutes, name="confirm_minutes"),
                    path("sessions/<int:pk>/minutes/publish/", followup_views.publish_minutes, name="publish_minutes"),
                ]
            )
        ),
    ),
    # The council's follow-up: public decisions and progress.
    path("council/decisions/<int:pk>/", followup_views.decision_detail, name="decision_detail"),
    path("council/decisions/<int:pk>/objection/", followup_views.file_objection, name="file_objection"),
    path("council/progress/", followup_views.progress, name="progress"),
]
