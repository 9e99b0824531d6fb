from django.urls import path

from . import views

app_name = "neighbours"

urlpatterns = [
    path("neighbours/", views.board, name="board"),
    path("neighbours/new/", views.new_post, name="new_post"),
    path("neighbours/posts/<int:post_id>/", views.post_detail, name="post"),
    path("neighbours/posts/<int:post_id>/photos/<int:pk>/", views.post_photo, name="photo"),
    path("neighbours/posts/<int:post_id>/respond/", views.respond, name="respond"),
    path("neighbours/posts/<int:post_id>/close/", views.close, name="close"),
    path("neighbours/posts/<int:post_id>/report/", views.report, name="report"),
    path("neighbours/posts/<int:post_id>/responses/<int:response_id>/answer/", views.answer, name="answer"),
    path("neighbours/posts/<int:post_id>/responses/<int:response_id>/withdraw/", views.withdraw, name="withdraw"),
    path("neighbours/posts/<int:post_id>/responses/<int:response_id>/done/", views.done, name="done"),
    path("neighbours/posts/<int:post_id>/responses/<int:response_id>/thank/", views.thank, name="thank"),
    path("me/neighbours/", views.mine, name="mine"),
    path("me/neighbours/skills/", views.skills, name="skills"),
]
