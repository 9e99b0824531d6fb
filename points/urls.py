from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("me/points/", views.overview, name="overview"),
    path("me/points/statement/", views.statement, name="statement"),
    path("me/points/statement.csv", views.statement_csv, name="statement_csv"),
    path("me/points/rewards/", views.rewards, name="rewards"),
    path("me/points/rewards/<int:pk>/redeem/", views.redeem, name="redeem"),
    path("me/points/reservations/<int:pk>/", views.reservation, name="reservation"),
    path("me/points/reservations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("me/points/honours/", views.honours_opt_in, name="honours_opt_in"),
    path("points/honours/", views.honours, name="honours"),
]
