from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("classes/", views.classes, name="classes"),
    path("activities/sessions/<int:session_id>/book/", views.book, name="book"),
    path("activities/sessions/<int:session_id>/draw/", views.draw_result, name="draw"),
    path("me/bookings/", views.my_bookings, name="my_bookings"),
    path("me/bookings/<str:code>/cancel/", views.cancel, name="cancel"),
    path("me/bookings/<str:code>.ics", views.booking_ics, name="booking_ics"),
    path("me/calendar/reset/", views.reset_calendar_feed, name="reset_calendar_feed"),
    path("me/household/", views.household, name="household"),
    path("me/household/<int:member_id>/remove/", views.remove_household_member, name="remove_household_member"),
]
