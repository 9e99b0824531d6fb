"""Factories for the mailbox's tests and demo data."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from home.factories import CommunityFactory, ResidentProfileFactory, UserFactory

from . import services, similarity
from .models import AgendaItem, Category, Council, CouncilMember, CouncilSession, Letter, Topic


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


class CouncilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Council

    community = factory.SubFactory(CommunityFactory)
    name = factory.LazyAttribute(lambda o: f"{o.community.name}居民议事会")
    name_en = factory.LazyAttribute(lambda o: f"{o.community.code.title()} residents' council")


class CouncilMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouncilMember

    council = factory.SubFactory(CouncilFactory)
    user = factory.LazyAttribute(lambda o: resident(o.council.community))
    role = CouncilMember.Role.MEMBER
    term_start = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=365))
    term_end = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=2 * 365))


def council_with_members(*, members: int = 7, community=None, **fields) -> Council:
    """A council of `members` current members: the first is the chair, the second the secretary."""
    council = CouncilFactory(community=community or community_with_staff(), **fields)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY]
    for number in range(members):
        CouncilMemberFactory(council=council, role=roles[number] if number < len(roles) else CouncilMember.Role.MEMBER)
    return council


class CouncilSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouncilSession

    council = factory.SubFactory(CouncilFactory)
    title = "第三季度居民议事会"
    title_en = "Third-quarter council session"
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    place = "社区党群服务中心二楼会议室"
    place_en = "Community service centre, meeting room, 2nd floor"
    mode = CouncilSession.Mode.HYBRID


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    session = factory.SubFactory(CouncilSessionFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = "增设夜间临时停车位"
    title_en = "Night-time parking bays"
    motion = "同意在小区东侧空地增设20个夜间临时停车位，由物业负责施划。"
    motion_en = "Twenty night-time parking bays are marked out on the empty plot east of the estate by the property manager."
