from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _content_saved(created: bool = False, **_signal) -> None:
    """A change to what is kept per publish generation; a row just made (the policy's, on its first use) changes
    nothing kept."""
    from home.signals import invalidate_page_cache

    if not created:
        invalidate_page_cache()


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"
    verbose_name = _("Classes and activities")

    def ready(self) -> None:
        # The pages' context comes from the listing, which queries the models: connected here, where both
        # are loaded, so that neither module imports the other back.
        # The listing also registers the activity page's personal part, the sessions (plumbing/personal.py).
        from .listing import activity_list_context
        from .models import ActivityIndexPage

        ActivityIndexPage.build_context = activity_list_context

        from django.db.models.signals import post_delete, post_save

        from home.models import ResidentProfile

        from .models import Booking, HouseholdMember, Session, bookings_changed

        # A household's members and a resident's profile (their birth year) show on activity pages with the bookings
        # (events.listing.Visitor, kept per bookings generation).
        for model in (Booking, Session, HouseholdMember, ResidentProfile):
            post_save.connect(bookings_changed, sender=model, dispatch_uid=f"bookings-changed-save-{model.__name__}")
            post_delete.connect(bookings_changed, sender=model, dispatch_uid=f"bookings-changed-delete-{model.__name__}")

        # Sessions as the list and calendars keep them: a new generation when one is saved or deleted; added or
        # cancelled by the services (audited), the activity's next session is set at once too.
        from plumbing.audit import recorded

        from .models import ActivityPage, BookingPolicy, sessions_changed, sessions_recorded

        # The no-show policy and the activities are kept per publish generation (services.booking_policy,
        # services.kept_activity): saving one starts a new generation, as publishing does.
        for model in (BookingPolicy, ActivityPage):
            post_save.connect(_content_saved, sender=model, dispatch_uid=f"kept-per-generation-{model.__name__}")

        post_save.connect(sessions_changed, sender=Session, dispatch_uid="sessions-changed-save")
        post_delete.connect(sessions_changed, sender=Session, dispatch_uid="sessions-changed-delete")
        recorded.connect(sessions_recorded, dispatch_uid="events-sessions-recorded")
