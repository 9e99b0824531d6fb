from django.urls import URLPattern, include, path

from . import views

app_name = "council"


def members_portal(patterns: list[URLPattern]) -> list[URLPattern]:
    """Patterns under me/council/, each view behind `views.council_portal` (login, then TOTP where required):
    one place, so a view added to the members' portal (here or by the follow-up) cannot go without it."""
    return [URLPattern(p.pattern, views.council_portal(p.callback), p.default_args, p.name) for p in patterns]


urlpatterns = [
    # Public sessions; the members' portal under /me/ (never cached).
    path("council/", views.public_sessions, name="council_sessions"),
    path("council/sessions/<int:pk>/", views.public_session, name="council_session"),
    path(
        "me/council/",
        include(
            members_portal(
                [
                    path("", views.my_councils, name="my_councils"),
                    path("sessions/<int:pk>/", views.session_live, name="council_session_live"),
                    path("door/<int:session_pk>/<str:door_key>/", views.door, name="council_door"),
                ]
            )
        ),
    ),
]
