from django.urls import include, path

from deliberation.council.urls import members_portal

from . import views

app_name = "followup"

urlpatterns = [
    # Minutes for members, in the council members' portal (login, then TOTP where required).
    path(
        "me/council/",
        include(
            members_portal(
                [
                    path("sessions/<int:pk>/minutes/", views.member_minutes, name="member_minutes"),
                    path("sessions/<int:pk>/minutes/edit/", views.edit_minutes, name="edit_minutes"),
                    path("sessions/<int:pk>/minutes/confirm/", views.confirm_minutes, name="confirm_minutes"),
                    path("sessions/<int:pk>/minutes/publish/", views.publish_minutes, name="publish_minutes"),
                ]
            )
        ),
    ),
    # Public decisions and their progress.
    path("council/decisions/<int:pk>/", views.decision_detail, name="decision_detail"),
    path("council/decisions/<int:pk>/objection/", views.file_objection, name="file_objection"),
    path("council/progress/", views.progress, name="progress"),
]
