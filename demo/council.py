"""Demo content of the councils: a council per community, a past session of Liuhe with its votes (one
secret), results, published minutes and decisions at every stage of their follow-up, and an announced
session of each community with its agenda.

Called from `demo.mailbox.seed` after the mailbox's topics exist; everything goes through the
services, so the results and the council's chain verify and the audit log is filled. The past session is
recorded afterwards: each step is dated to when it happened through the services' `now=` (and `today=`)
arguments, so what the chain signs carries those times. Idempotent: a council that exists is left as it is.
Nobody is e-mailed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from deliberation.council import members as council_admin
from deliberation.council import services as council_services
from deliberation.council.models import AgendaItem, Council, CouncilMember, CouncilSession
from deliberation.followup import services as followup
from deliberation.followup.models import Decision, FollowUpAction
from deliberation.mailbox.models import Topic
from home.models import Community
from outbox.services import muted

User = get_user_model()

Rule, Ballot, Party = AgendaItem.Rule, AgendaItem.Ballot, FollowUpAction.Party


@dataclass(frozen=True)
class DemoCouncil:
    community: str
    name: str
    name_en: str
    members: tuple[str, ...]  # logins: the chair, the secretary, then members


COUNCILS = (
    DemoCouncil(
        "liuhe",
        "六和社区居民议事会",
        "Liuhe residents' council",
        ("li.jianguo", "chen.jing", "wang.xiuying", "zhang.guifang", "liu.wei", "zhao.min", "omar.haddad"),
    ),
    DemoCouncil(
        "jiangnan",
        "江南社区居民议事会",
        "Jiangnan residents' council",
        ("zhou.zhiqiang", "wu.lijuan", "xu.haoran", "sun.yue", "ma.xiaodong", "hu.ming", "anna.mueller"),
    ),
)

# The past session of Liuhe: (topic title or None, title, title_en, motion, motion_en, rule, ballot, votes yes/no/abstain)
PAST_ITEMS = (
    (
        None,
        "通过上次会议纪要",
        "Approval of the previous minutes",
        "通过2026年第二季度居民议事会会议纪要。",
        "The minutes of the second-quarter 2026 session are approved.",
        Rule.SIMPLE,
        Ballot.OPEN,
        (6, 0, 0),
    ),
    (
        "垃圾投放点异味",
        "垃圾投放点清运与冲洗",
        "Garbage point: collection and washing",
        "夏季（6—9月）垃圾投放点每日清运两次，并在六和苑投放点安装冲洗水龙头。",
        "From June to September the garbage points are emptied twice a day; a washing tap is installed at Liuheyuan's point.",
        Rule.SIMPLE,
        Ballot.OPEN,
        (5, 1, 0),
    ),
    (
        "运河人家雨后积水",
        "运河人家雨水管疏通",
        "Canal Homes: clearing the storm drains",
        "汛期前疏通运河人家主干道雨水管，并在地下车库入口加装挡水板，费用由维修资金列支。",
        "Before the rainy season the storm drains of Canal Homes' main road are cleared and flood boards fitted at the "
        "garage entrance, paid from the maintenance fund.",
        Rule.TWO_THIRDS,
        Ballot.SECRET,
        (6, 0, 0),
    ),
    (
        "老年食堂周末开放",
        "老年食堂周末供餐",
        "Weekend meals at the seniors' canteen",
        "老年食堂周六、周日中午供餐，由志愿者协助送餐到独居老人家中。",
        "The seniors' canteen serves lunch on Saturdays and Sundays; volunteers take meals to seniors living alone.",
        Rule.ABSOLUTE,
        Ballot.OPEN,
        (5, 0, 1),
    ),
)

# The upcoming sessions: community → (topic titles on the agenda with their rule and ballot). Liuhe's
# parking topic stays shortlisted, waiting for a session.
UPCOMING = {
    "liuhe": (("桂花里老楼加装电梯", "桂花里5幢加装电梯方案", "A lift for Guihuali building 5", Rule.TWO_THIRDS, Ballot.SECRET),),
    "jiangnan": (("江南春晓助餐配送", "助餐送餐上门", "Meals delivered to the door", Rule.ABSOLUTE, Ballot.OPEN),),
}


def _user(login: str):
    return User.objects.filter(username=f"demo-{login}").first()


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def seed() -> None:
    with muted():
        for demo in COUNCILS:
            community = Community.objects.filter(code=demo.community).first()
            staff = _user(f"{demo.community}.staff")
            members = [_user(login) for login in demo.members]
            if community is None or staff is None or not all(members) or Council.objects.filter(community=community).exists():
                continue
            council = _council(community=community, demo=demo, members=members, staff=staff)
            if demo.community == "liuhe":
                _past_session(council=council, staff=staff, members=members)
            _upcoming_session(council=council, staff=staff)


def _council(*, community: Community, demo: DemoCouncil, members: list, staff) -> Council:
    council = council_admin.create_council(community=community, actor=staff, name=demo.name, name_en=demo.name_en)
    term_start = datetime.date(timezone.localdate().year - 1, 1, 1)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY]
    for number, user in enumerate(members):
        council_admin.add_member(
            council=council,
            actor=staff,
            user=user,
            role=roles[number] if number < len(roles) else CouncilMember.Role.MEMBER,
            term_start=term_start,
            term_end=datetime.date(term_start.year + 3, 12, 31),
        )
    return council


def _topic(council: Council, title: str | None) -> Topic | None:
    return Topic.objects.filter(community=council.community, title=title).first() if title else None


def _past_session(*, council: Council, staff, members: list) -> None:
    today = timezone.localdate()
    day = today - datetime.timedelta(days=40)
    announced = _at(day - datetime.timedelta(days=10), 9)
    session = council_services.create_session(
        council=council,
        actor=staff,
        title="2026年第三季度居民议事会",
        title_en="Third-quarter 2026 council session",
        starts_at=_at(day, 19),
        ends_at=_at(day, 21),
        mode=CouncilSession.Mode.HYBRID,
        place="六和社区党群服务中心二楼会议室",
        place_en="Liuhe community centre, meeting room, 2nd floor",
        now=announced,
    )
    items = []
    for topic_title, title, title_en, motion, motion_en, rule, ballot, _votes in PAST_ITEMS:
        items.append(
            council_services.add_item(
                session=session,
                actor=staff,
                title=title,
                title_en=title_en,
                motion=motion,
                motion_en=motion_en,
                rule=rule,
                ballot=ballot,
                topic=_topic(council, topic_title),
                public_notice=topic_title is not None,  # approving the minutes is procedural
            )
        )
    chair, secretary = members[0], members[1]
    council_services.announce_session(session=session, actor=staff, now=announced)
    council_services.start_session(session=session, actor=chair, now=_at(day, 19))
    present = members[:6]  # one member sent apologies
    for user in present:
        council_services.check_in(session=session, user=user, method="secretary", actor=secretary, now=_at(day, 18, 55))
    for number, (item, spec) in enumerate(zip(items, PAST_ITEMS, strict=True)):
        yes, no, abstain = spec[-1]
        opened = _at(day, 19) + datetime.timedelta(minutes=5 + 20 * number)
        council_services.open_voting(item=item, actor=chair, now=opened)
        choices = ["yes"] * yes + ["no"] * no + ["abstain"] * abstain
        for user, choice in zip(present, choices, strict=False):
            council_services.cast_vote(item=item, user=user, choice=choice)
        council_services.close_voting(item=item, actor=chair, now=opened + datetime.timedelta(minutes=15))
    council_services.end_session(session=session, actor=chair, now=_at(day, 21))
    for user in present[:4]:
        followup.confirm_minutes(session=session, user=user)
    followup.publish_minutes(session=session, actor=secretary)
    # The notice period is over (no objection came): each decision took effect the morning after its notice
    # ended, as the daily task would have done.
    notices = Decision.objects.filter(item__session=session, notice_until__isnull=False).values_list("notice_until", flat=True)
    if notices:
        effect_day = min(notices) + datetime.timedelta(days=1)
        while effect_day <= today:
            followup.take_effect_due(today=effect_day, now=_at(effect_day, 9))
            effect_day += datetime.timedelta(days=1)
    _follow_up(session=session, staff=staff, day=day)


def _follow_up(*, session: CouncilSession, staff, day: datetime.date) -> None:
    today = timezone.localdate()
    decisions = {d.item.position: d for d in Decision.objects.filter(item__session=session).select_related("item")}
    garbage, drains, meals = decisions.get(2), decisions.get(3), decisions.get(4)
    if garbage is not None:
        collect = followup.add_action(
            decision=garbage,
            actor=staff,
            description="垃圾投放点夏季每日清运两次",
            description_en="Empty the garbage points twice a day in summer",
            party=Party.PROPERTY_MANAGEMENT,
            due_on=today + datetime.timedelta(days=1),
        )
        # Agreed at the session and due ten days ago: the overdue flag and the escalation show on the progress page.
        tap = followup.add_action(
            decision=garbage,
            actor=staff,
            description="六和苑投放点安装冲洗水龙头",
            description_en="Fit a washing tap at Liuheyuan's garbage point",
            party=Party.RESIDENTS_COMMITTEE,
            due_on=today - datetime.timedelta(days=10),
            today=day,
        )
        followup.report_progress(action=collect, actor=staff, progress=100, note="已与环卫公司签订补充协议。",
                                 note_en="A supplementary contract with the sanitation company is signed.")  # fmt: skip
        followup.report_progress(action=tap, actor=staff, progress=60, note="水管已接通，等待安装龙头和排水槽。",
                                 note_en="The water pipe is connected; the tap and drain are to be fitted.")  # fmt: skip
        followup.escalate_overdue_actions(today=today)
    if drains is not None:
        clear = followup.add_action(
            decision=drains,
            actor=staff,
            description="疏通主干道雨水管",
            description_en="Clear the storm drains of the main road",
            party=Party.STREET_OFFICE,
            due_on=today + datetime.timedelta(days=45),
        )
        followup.report_progress(action=clear, actor=staff, progress=40, note="已完成勘测，施工队进场。",
                                 note_en="The survey is done; the contractor is on site.")  # fmt: skip
        followup.add_action(
            decision=drains,
            actor=staff,
            description="地下车库入口加装挡水板",
            description_en="Fit flood boards at the garage entrance",
            party=Party.OWNERS_COMMITTEE,
            due_on=today + datetime.timedelta(days=60),
        )
    if meals is not None:
        for description, description_en, party in (
            ("老年食堂周末排班", "Weekend rota of the seniors' canteen", Party.RESIDENTS_COMMITTEE),
            ("招募送餐志愿者", "Recruit volunteers for meal delivery", Party.RESIDENTS_COMMITTEE),
        ):
            followup.add_action(
                decision=meals,
                actor=staff,
                description=description,
                description_en=description_en,
                party=party,
                due_on=today + datetime.timedelta(days=1),
            )
        for action in meals.actions.order_by("pk"):
            followup.report_progress(action=action, actor=staff, progress=100)


def _upcoming_session(*, council: Council, staff) -> None:
    day = timezone.localdate() + datetime.timedelta(days=12)
    session = council_services.create_session(
        council=council,
        actor=staff,
        title="2026年第四季度居民议事会",
        title_en="Fourth-quarter 2026 council session",
        starts_at=_at(day, 19),
        ends_at=_at(day, 21),
        mode=CouncilSession.Mode.HYBRID,
        place=f"{council.community.name}党群服务中心会议室",
        place_en="Community centre, meeting room",
    )
    for topic_title, title, title_en, rule, ballot in UPCOMING.get(council.community.code, ()):
        topic = _topic(council, topic_title)
        if topic is None:
            continue
        council_services.add_item(
            session=session,
            actor=staff,
            title=title,
            title_en=title_en,
            motion=f"关于“{topic.title}”的议题，同意{title}。",
            motion_en=f"The council agrees: {title_en.lower()}.",
            rule=rule,
            ballot=ballot,
            topic=topic,
        )
    if session.items.exists():
        council_services.announce_session(session=session, actor=staff)


def summary() -> str:
    return (
        f"Councils: {Council.objects.count()} councils, {CouncilMember.objects.count()} members, "
        f"{CouncilSession.objects.count()} sessions, {Decision.objects.count()} decisions, "
        f"{FollowUpAction.objects.count()} follow-up actions."
    )
