"""Factories for the mailbox's tests and demo data."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from deliberation.mailbox import services, similarity
from deliberation.mailbox.models import Category, Letter, Topic
from home.factories import CommunityFactory, ResidentProfileFactory, UserFactory


def community_with_staff(**fields):
    """A community with its staff and heads groups, as home.services.create_community makes them."""
    community = CommunityFactory(**fields)
    if community.editors is None:
        community.editors, _created = Group.objects.get_or_create(name=f"{community.name} · staff")
        community.heads, _created = Group.objects.get_or_create(name=f"{community.name} · heads")
        community.save()
    return community


def staff_member(community, *, head: bool = False, **fields):
    user = UserFactory(**fields)
    user.groups.add(community.heads if head else community.editors)
    return user


def resident(community=None, **fields):
    """A verified resident of `community`, with a profile."""
    return ResidentProfileFactory(community=community, **fields).user


class LetterFactory(factory.django.DjangoModelFactory):
    """A letter stored directly (no mail, no rate limits): use services.submit_letter to test the rules."""

    class Meta:
        model = Letter

    tracking_number = factory.Sequence(lambda n: f"2026-{900000 + n:06d}")
    channel = Letter.Channel.WEB
    writer = None
    community = factory.SubFactory(CommunityFactory)
    category = Category.PARKING
    subject = "小区停车难"
    body = "晚上回来总是找不到停车位，希望增加车位。"
    shingles = factory.LazyAttribute(lambda o: similarity.encode(similarity.shingles(f"{o.subject} {o.body}")))


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    community = factory.SubFactory(CommunityFactory)
    title = "增加小区停车位"
    summary = "多位居民反映晚间停车难，建议利用闲置空地增设车位。"
    category = Category.PARKING
    summary_approved_at = factory.LazyFunction(timezone.now)
    shingles = factory.LazyAttribute(lambda o: similarity.encode(similarity.shingles(f"{o.title} {o.summary}")))


def web_letter(*, writer, community=None, **fields) -> Letter:
    fields.setdefault("subject", "小区停车难")
    fields.setdefault("body", "晚上回来总是找不到停车位，希望增加车位。")
    return services.submit_letter(channel=Letter.Channel.WEB, writer=writer, community=community, **fields)


# ---------------------------------------------------------------------------
# Councils
