"""The guardian's consent box follows the participant chosen (events/static/events/booking.js): hidden and not
required while the resident books for themself, shown and required while a child under 14 is chosen."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from events import factories as event_factories
from events.models import Booking, HouseholdMember
from home.factories import ResidentProfileFactory

pytestmark = pytest.mark.browser


def test_the_consent_box_follows_the_participant(portal, phone):
    this_year = timezone.localdate().year
    parent = ResidentProfileFactory(birth_year=this_year - 38).user
    EmailAddress.objects.filter(user=parent).update(verified=True)
    child = HouseholdMember.objects.create(resident=parent, name="小红", birth_year=this_year - 8, relation="child")
    activity = event_factories.activity(parent=event_factories.activity_index(), title="亲子剪纸", slug="family")
    session = event_factories.SessionFactory(activity=activity, capacity=5)
    client = Client()
    client.force_login(parent)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    phone.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": portal.url}])

    phone.goto(portal.url + activity.url)
    form = phone.locator(f"form[action$='/sessions/{session.pk}/book/']")
    participant, box = form.locator("select[name=participant]"), form.locator("input[name=guardian_consent]")
    expect(box).to_be_hidden()  # the resident is chosen first
    assert not box.evaluate("input => input.required")
    participant.select_option(str(child.pk))
    expect(box).to_be_visible()
    assert box.evaluate("input => input.required")
    form.locator("button[type=submit]").click()  # the browser asks for the tick: nothing is sent
    assert box.evaluate("input => input.validity.valueMissing") and not Booking.objects.exists()
    participant.select_option("me")
    expect(box).to_be_hidden()
    assert not box.evaluate("input => input.required")
    participant.select_option(str(child.pk))
    box.check()
    form.locator("button[type=submit]").click()
    phone.wait_for_url(f"{portal.url}/zh-hans/me/bookings/")
    assert Booking.objects.get().member == child and Booking.objects.get().guardian_consent_at is not None
