"""Factories for activities, sessions and bookings (tests and seed_demo)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from home.factories import add_page, home_page

from .models import ActivityIndexPage, ActivityPage, HouseholdMember, Session


def activity_index(language: str | None = None, *, title: str = "课程活动", slug: str = "activities") -> ActivityIndexPage:
    home = home_page(language)
    existing = ActivityIndexPage.objects.child_of(home).filter(slug=slug).first()
    return existing or add_page(home, ActivityIndexPage(title=title, slug=slug))


def activity(parent: ActivityIndexPage | None = None, *, publish: bool = True, **fields) -> ActivityPage:
    """A published activity (default: a first-come class for all ages, open to everyone)."""
    parent = parent or activity_index()
    fields.setdefault("title", "剪纸课")
    fields.setdefault("summary", "跟非遗传承人学剪纸。")
    fields.setdefault("kind", "class")
    fields.setdefault("category", "heritage")
    fields.setdefault("venue", "六和社区文化家园")
    fields.setdefault("organiser", "王老师")
    return add_page(parent, ActivityPage(**fields), publish=publish)


def in_days(days: float, *, hour: int = 9) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=int(days))
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    activity = factory.LazyFunction(activity)
    starts_at = factory.LazyFunction(lambda: in_days(3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    capacity = 10


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    name = "小明"
    birth_year = factory.LazyFunction(lambda: timezone.localdate().year - 8)
    relation = HouseholdMember.Relation.CHILD
    guardian_consent_at = factory.LazyFunction(timezone.now)
