"""Demo content of the mailbox: letters over every channel and category, in both languages,
merged into topics at every stage of their workflow, with residents' support.

Called by `manage.py seed_demo` after the foundation's communities and people exist.
Idempotent: each demo letter carries a record id `demo-…`, each topic is found by its
title, so a second run creates nothing. Timeline mails are marked as sent: seeding
does not write to sixty inboxes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from deliberation.mailbox import services
from deliberation.mailbox.models import Category, CommunityMailbox, Letter, LetterEvent, Support, Topic
from home.models import Community, Grid

from . import council

User = get_user_model()


@dataclass(frozen=True)
class DemoTopic:
    key: str
    community: str
    title: str
    summary: str
    category: str
    stage: str  # the status it ends at
    approved: bool = True
    reason: str = ""


# What English pages show for each demo topic (title, summary).
TOPICS_EN = {
    "parking": (
        "Evening parking at the east gate",
        "Several residents report that after 7 pm the east gate car park is full and cars block the fire lane. "
        "They suggest sharing nearby workplaces' spaces at off-peak times.",
    ),
    "elevator": (
        "Lifts for Guihuali's older buildings",
        "Older residents of Guihuali's six-storey buildings find the stairs hard; they ask for lifts to be added "
        "and for the ground-floor households to be consulted.",
    ),
    "garbage": (
        "Smell at the rubbish collection points",
        "The collection points smell strongly in summer; residents suggest more frequent collection and a place to rinse bins.",
    ),
    "water": (
        "Flooding in Yunhe Renjia after rain",
        "After heavy rain the estate's main road and the garage entrance flood. Residents suggest clearing the "
        "drains and fitting flood barriers.",
    ),
    "meals": (
        "Seniors' canteen open at weekends",
        "Older people living alone would like the canteen to serve meals at weekends too.",
    ),
    "noise": ("Building work at night", "A nearby building site keeps working after 10 pm and keeps residents awake."),
    "charging": (
        "E-bike charging points at Qingfengyuan",
        "Charging e-bikes in stairwells is a fire risk; residents ask for shared charging points.",
    ),
    "delivery": (
        "Meal delivery in Jiangnan Chunxiao",
        "Older people who cannot get about easily would like meals delivered to their door.",
    ),
    "vegetables": (
        "Vegetables grown in the Jinxiuli green belt",
        "Some residents grow vegetables in the shared green belt; others want the planting restored.",
    ),
    "dancing": ("Volume of square dancing", ""),
}


TOPICS = (
    DemoTopic(
        "parking",
        "liuhe",
        "东门晚间停车难",
        "多位居民反映晚上七点后东门停车场车位不足，车辆停到消防通道。建议错峰共享周边单位车位。",
        Category.PARKING,
        Topic.Status.SHORTLISTED,
    ),
    DemoTopic(
        "elevator",
        "liuhe",
        "桂花里老楼加装电梯",
        "桂花里多栋六层老楼的老年居民上下楼困难，希望推进加装电梯并协调低层住户意见。",
        Category.ELEVATOR,
        Topic.Status.SHORTLISTED,
    ),
    DemoTopic(
        "garbage",
        "liuhe",
        "垃圾投放点异味",
        "夏季垃圾投放点异味明显，建议增加清运次数并安装冲洗设施。",
        Category.GARBAGE,
        Topic.Status.SHORTLISTED,
    ),
    DemoTopic(
        "water",
        "liuhe",
        "运河人家雨后积水",
        "大雨后小区主干道和地下车库入口积水，影响出行。建议疏通雨水管并加装挡水板。",
        Category.WATERLOGGING,
        Topic.Status.SHORTLISTED,
    ),
    DemoTopic(
        "meals", "liuhe", "老年食堂周末开放", "独居老人希望老年食堂周末也能供餐。", Category.ELDERLY, Topic.Status.SHORTLISTED
    ),
    DemoTopic("noise", "liuhe", "夜间施工噪音", "周边工地夜间十点后仍在施工，影响居民休息。", Category.NOISE, Topic.Status.OPEN),
    DemoTopic(
        "charging",
        "jiangnan",
        "青枫苑电动车充电桩",
        "电动车在楼道充电存在安全隐患，居民希望增设集中充电桩。",
        Category.SAFETY,
        Topic.Status.OPEN,
    ),
    DemoTopic(
        "delivery",
        "jiangnan",
        "江南春晓助餐配送",
        "行动不便的老人希望助餐服务可以送餐上门。",
        Category.ELDERLY,
        Topic.Status.SHORTLISTED,
    ),
    DemoTopic(
        "vegetables",
        "jiangnan",
        "锦绣里绿化带种菜",
        "有居民在公共绿化带种菜，其他居民希望恢复绿化。",
        Category.ENVIRONMENT,
        Topic.Status.REJECTED,
        reason="已由物业按规定处理并恢复绿化，无需提交议事会。",
    ),
    DemoTopic("dancing", "jiangnan", "广场舞音量", "", Category.NOISE, Topic.Status.OPEN, approved=False),
)

# (topic key, writer login or None, channel, grid number, subject, text, language)
LETTERS = (
    ("parking", "liu.wei", "web", 4, "东门停车场晚上没车位", "每天晚上七点以后东门停车场就满了，只能停到路边。", "zh-hans"),
    ("parking", "yang.yang", "web", 2, "停车难", "下班回来绕小区三圈找不到车位，希望想想办法。", "zh-hans"),
    (
        "parking",
        "omar.haddad",
        "web",
        2,
        "No parking space in the evening",
        "After 7 pm there is never a free space near the east gate.",
        "en",
    ),
    ("parking", "guo.li", "email", 1, "车停在消防通道", "晚上很多车停在消防通道上，万一着火很危险。", "zh-hans"),
    ("parking", None, "hotline", 3, "小区停车位不足", "来电反映六和社区东门附近停车位紧张。", "zh-hans"),
    ("parking", "chen.jing", "web", 1, "建议共享车位", "旁边写字楼晚上车位空着，能不能和他们协商共享？", "zh-hans"),
    ("elevator", "li.jianguo", "staff", 2, "想装电梯", "我住六楼，腿脚不好，上下楼太难了，希望装电梯。", "zh-hans"),
    ("elevator", "wang.xiuying", "staff", 1, "老楼加装电梯", "老伴坐轮椅，每次下楼都要邻居帮忙抬。", "zh-hans"),
    ("elevator", "yang.yang", "web", 2, "支持加装电梯", "楼里老人多，我家愿意分摊费用。", "zh-hans"),
    ("elevator", None, "hotline", 2, "加装电梯进展", "来电询问桂花里5幢加装电梯的进展。", "zh-hans"),
    (
        "elevator",
        "omar.haddad",
        "email",
        2,
        "Lift for our building",
        "Our neighbours on the top floor cannot carry shopping upstairs. A lift would help.",
        "en",
    ),
    ("elevator", "zhang.guifang", "web", 3, "电梯加装的费用", "想了解加装电梯的补贴政策和费用分摊。", "zh-hans"),
    ("garbage", "zhao.min", "web", 3, "垃圾房太臭了", "夏天垃圾房异味很大，窗户都不敢开。", "zh-hans"),
    ("garbage", "chen.jing", "email", 1, "投放点需要冲洗", "投放点地面很脏，建议装个冲洗水龙头。", "zh-hans"),
    ("garbage", "huang.zihan", "web", 4, "垃圾清运太少", "傍晚垃圾桶就满了，能不能一天清运两次？", "zh-hans"),
    ("garbage", None, "hotline", 1, "垃圾异味扰民", "来电反映六和苑垃圾投放点异味扰民。", "zh-hans"),
    (
        "garbage",
        "omar.haddad",
        "web",
        2,
        "Bins overflowing",
        "The sorting bins are full by the evening and smell in summer.",
        "en",
    ),
    ("water", "zhang.guifang", "web", 3, "下雨就积水", "每次大雨运河人家主干道都积水到脚踝。", "zh-hans"),
    ("water", "zhao.min", "web", 3, "车库入口进水", "上周暴雨地下车库入口进水，好几辆车被泡。", "zh-hans"),
    ("water", None, "hotline", 3, "小区积水", "来电反映运河人家雨后积水严重。", "zh-hans"),
    ("water", "liu.wei", "email", 4, "雨水管堵了", "雨水管好像堵了，下雨时水排不出去。", "zh-hans"),
    ("water", None, "staff", 3, "积水影响老人出行", "独居老人反映雨后门口积水无法出门。", "zh-hans"),
    ("meals", "wang.xiuying", "staff", 1, "周末吃饭难", "周末食堂不开门，我一个人做饭不方便。", "zh-hans"),
    ("meals", "li.jianguo", "web", 2, "老年食堂周末能开吗", "希望周六周日食堂也能开，哪怕只开中午。", "zh-hans"),
    ("meals", "guo.li", "web", 1, "给父母订餐", "父母年纪大了，周末没人做饭，希望食堂周末开放。", "zh-hans"),
    ("meals", None, "hotline", 1, "老年助餐", "来电建议老年食堂周末供餐。", "zh-hans"),
    ("meals", "zhang.guifang", "email", 3, "周末助餐", "周末也需要助餐服务。", "zh-hans"),
    ("noise", "chen.jing", "web", 1, "晚上施工太吵", "工地晚上十一点还在打桩，孩子睡不着。", "zh-hans"),
    ("noise", "huang.zihan", "web", 4, "夜间噪音", "深夜施工噪音太大，影响学习。", "zh-hans"),
    ("noise", None, "hotline", 4, "施工扰民", "来电反映夜间施工扰民。", "zh-hans"),
    (
        "noise",
        "omar.haddad",
        "web",
        2,
        "Construction noise at night",
        "The building site works until midnight. Is that allowed?",
        "en",
    ),
    ("noise", "liu.wei", "email", 4, "施工许可", "请问工地有夜间施工许可吗？", "zh-hans"),
    ("charging", "zhou.zhiqiang", "web", 1, "楼道充电危险", "有人把电动车推进楼道充电，太危险了。", "zh-hans"),
    (
        "charging",
        "anna.mueller",
        "web",
        2,
        "Charging points for e-bikes",
        "Please install charging points so nobody charges e-bikes in the stairwell.",
        "en",
    ),
    ("charging", "ma.xiaodong", "email", 2, "增设充电桩", "建议在青枫苑增设集中充电桩。", "zh-hans"),
    ("charging", None, "hotline", 2, "电动车充电", "来电反映楼道飞线充电。", "zh-hans"),
    ("charging", "xu.haoran", "web", 3, "充电桩不够", "现有充电桩太少，晚上排队。", "zh-hans"),
    ("delivery", "hu.ming", "staff", 1, "送餐上门", "我行动不便，希望助餐能送到家。", "zh-hans"),
    ("delivery", "sun.yue", "web", 1, "给奶奶送餐", "奶奶腿脚不好，希望有送餐上门服务。", "zh-hans"),
    (
        "delivery",
        "priya.sharma",
        "web",
        1,
        "Meal delivery for elderly neighbours",
        "My elderly neighbour cannot walk to the canteen. Could meals be delivered?",
        "en",
    ),
    ("delivery", None, "hotline", 1, "老人送餐", "来电咨询老人送餐服务。", "zh-hans"),
    ("delivery", "wu.lijuan", "email", 2, "助餐配送", "希望社区组织志愿者送餐。", "zh-hans"),
    ("vegetables", "zhu.tingting", "web", 3, "绿化带被种菜", "锦绣里绿化带被人挖了种菜，还施粪肥。", "zh-hans"),
    (
        "vegetables",
        "david.kim",
        "web",
        3,
        "Vegetables in the green belt",
        "Someone dug up the lawn by building 5 to grow vegetables.",
        "en",
    ),
    ("vegetables", None, "hotline", 3, "毁绿种菜", "来电反映毁绿种菜。", "zh-hans"),
    ("vegetables", "xu.haoran", "email", 3, "恢复绿化", "希望恢复绿化带。", "zh-hans"),
    ("dancing", "wu.lijuan", "web", 2, "广场舞太吵", "晚上广场舞音响太大声。", "zh-hans"),
    (
        "dancing",
        "anna.mueller",
        "web",
        2,
        "Loud music in the square",
        "The dancing music in the square is very loud until 9 pm.",
        "en",
    ),
    ("dancing", "ma.xiaodong", "web", 2, "广场舞音量", "能不能约定音量和时间？", "zh-hans"),
    ("dancing", None, "hotline", 2, "广场舞扰民", "来电反映广场舞扰民。", "zh-hans"),
)

# Letters handled without a topic: (writer login or None, community, channel, grid, category, subject, text, language, outcome)
STANDALONE = (
    ("li.jianguo", "liuhe", "web", 2, Category.SAFETY, "楼道灯坏了", "5幢2单元楼道灯坏了一个星期。", "zh-hans", "answered"),
    (
        "omar.haddad",
        "liuhe",
        "web",
        2,
        Category.OTHER,
        "Community centre opening hours",
        "Is the community centre open on Sundays?",
        "en",
        "answered",
    ),
    ("yang.yang", "liuhe", "email", 2, Category.ENVIRONMENT, "树枝挡窗", "楼下的树长太高挡住了窗户。", "zh-hans", "accepted"),
    (None, "liuhe", "hotline", 1, Category.OTHER, "燃气费缴纳", "来电咨询燃气费缴纳方式。", "zh-hans", "out_of_scope"),
    ("zhao.min", "liuhe", "web", 3, Category.GARBAGE, "大件垃圾怎么扔", "家里旧沙发不知道怎么处理。", "zh-hans", "new"),
    ("huang.zihan", "liuhe", "web", 4, Category.OTHER, "自习室", "社区能不能开放一个暑期自习室？", "zh-hans", "new"),
    ("guo.li", "liuhe", "web", 1, Category.SAFETY, "单元门门禁坏了", "单元门门禁坏了，谁都能进。", "zh-hans", "new"),
    (
        "zhou.zhiqiang",
        "jiangnan",
        "web",
        1,
        Category.ELEVATOR,
        "电梯经常停",
        "江南春晓1幢电梯一周停了两次。",
        "zh-hans",
        "accepted",
    ),
    (
        "david.kim",
        "jiangnan",
        "web",
        3,
        Category.OTHER,
        "English classes for children",
        "Could the community offer Chinese classes for foreign children?",
        "en",
        "new",
    ),
    (
        "sun.yue",
        "jiangnan",
        "email",
        1,
        Category.PARKING,
        "共享单车乱停",
        "小区门口共享单车乱停，挡住盲道。",
        "zh-hans",
        "answered",
    ),
    (None, "jiangnan", "hotline", 2, Category.OTHER, "物业费", "来电投诉物业费上涨。", "zh-hans", "out_of_scope"),
    ("priya.sharma", "jiangnan", "web", 1, Category.NOISE, "Barking dog", "A dog barks all night in building 8.", "en", "new"),
)

FLOW = {
    Topic.Status.OPEN: [],
    Topic.Status.SHORTLISTED: [Topic.Status.SHORTLISTED],
    Topic.Status.SCHEDULED: [Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED],
    Topic.Status.DECIDED: [Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED, Topic.Status.DECIDED],
    Topic.Status.FOLLOW_UP: [Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED, Topic.Status.DECIDED, Topic.Status.FOLLOW_UP],
    Topic.Status.CLOSED: [Topic.Status.SHORTLISTED, Topic.Status.SCHEDULED, Topic.Status.DECIDED, Topic.Status.CLOSED],
    Topic.Status.REJECTED: [Topic.Status.REJECTED],
}


def _user(login: str | None):
    return User.objects.filter(username=f"demo-{login}").first() if login else None


def _community(code: str) -> Community | None:
    return Community.objects.filter(code=code).first()


def _grid(community: Community, number: int) -> Grid | None:
    return Grid.objects.filter(community=community, number=number).first()


def _letter(*, key: str, login, channel, community, grid_number, category, subject, body, language, days_ago, staff) -> Letter:
    existing = Letter.objects.filter(external_id=key).first()
    if existing is not None:
        return existing
    writer = _user(login)
    fields = {
        "subject": subject,
        "body": body,
        "community": community,
        "grid": _grid(community, grid_number),
        "category": category,
        "language": language,
        "privacy": Letter.Privacy.SUMMARY,
        "external_id": key,
        "received_at": timezone.now() - datetime.timedelta(days=days_ago, hours=days_ago % 7),
    }
    if channel == "web":
        letter = services.submit_letter(channel=channel, writer=writer, **fields)
    elif channel == "email":
        letter = services.submit_letter(channel=channel, writer=writer, contact=writer.email if writer else "", **fields)
    elif channel == "hotline":
        letter = services.submit_letter(channel=channel, actor=staff, contact_name="来电居民", contact="12345", **fields)
    else:
        letter = services.submit_letter(channel=channel, writer=writer, actor=staff, consent_recorded=True, **fields)
    return letter


def seed() -> None:
    communities = {code: _community(code) for code in ("liuhe", "jiangnan")}
    if not all(communities.values()):
        return
    staff = {code: _user(f"{code}.staff") for code in communities}
    if not all(staff.values()):
        return
    for code, community in communities.items():
        CommunityMailbox.objects.get_or_create(
            community=community, defaults={"address": f"{code}@mailbox.linli.localhost", "support_threshold": 5}
        )
    topic_by_key = {}
    for demo in TOPICS:
        community, actor = communities[demo.community], staff[demo.community]
        topic = Topic.objects.filter(community=community, title=demo.title).first()
        created = topic is None
        if created:
            topic = services.create_topic(community=community, title=demo.title, category=demo.category, actor=actor)
        topic_by_key[demo.key] = (topic, created, demo)
    for index, (key, login, channel, grid, subject, body, language) in enumerate(LETTERS):
        topic, _created, demo = topic_by_key[key]
        community, actor = communities[demo.community], staff[demo.community]
        letter = _letter(
            key=f"demo-{index + 1:03d}",
            login=login,
            channel=channel,
            community=community,
            grid_number=grid,
            category=demo.category,
            subject=subject,
            body=body,
            language=language,
            days_ago=150 - index * 2,
            staff=actor,
        )
        if letter.topic_id is None and letter.status in (Letter.Status.NEW, Letter.Status.ACCEPTED):
            if index % 3 == 0:
                services.accept_letter(letter=letter, actor=actor)
            services.merge_letter(letter=letter, topic=topic, actor=actor)
    for topic, created, demo in topic_by_key.values():
        if not created:
            continue
        actor = staff[demo.community]
        if demo.approved:
            title_en, summary_en = TOPICS_EN[demo.key]
            services.approve_topic_summary(
                topic=topic, actor=actor, summary=demo.summary, title_en=title_en, summary_en=summary_en
            )
        for status in FLOW[demo.stage]:
            services.change_topic_status(
                topic=topic, actor=actor, status=status, reason=demo.reason if status == Topic.Status.REJECTED else ""
            )
    for index, (login, code, channel, grid, category, subject, body, language, outcome) in enumerate(STANDALONE):
        community, actor = communities[code], staff[code]
        letter = _letter(
            key=f"demo-s{index + 1:02d}",
            login=login,
            channel=channel,
            community=community,
            grid_number=grid,
            category=category,
            subject=subject,
            body=body,
            language=language,
            days_ago=40 - index * 3,
            staff=actor,
        )
        if letter.status != Letter.Status.NEW:
            continue
        if outcome == "accepted":
            services.accept_letter(letter=letter, actor=actor)
        elif outcome == "answered":
            answer = "已安排维修，感谢反映。" if language == "zh-hans" else "Thank you: this has been taken care of."
            services.answer_letter(letter=letter, actor=actor, message=answer)
            if index % 2 == 0 and letter.writer_id:
                services.record_satisfaction(letter=letter, writer=letter.writer, satisfied=True)
        elif outcome == "out_of_scope":
            services.mark_out_of_scope(letter=letter, actor=actor, reason="不属于社区职责，已告知来电人向相关部门反映。")
    # Residents support open topics.
    residents = list(User.objects.filter(username__startswith="demo-", groups__isnull=True).select_related("profile"))
    for topic, _created, _demo in topic_by_key.values():
        topic.refresh_from_db()
        if not topic.accepts_support:
            continue
        for person in residents:
            profile = getattr(person, "profile", None)
            if profile and profile.community_id == topic.community_id and (person.pk + topic.pk) % 3 != 0:
                if services.wrote_about(topic=topic, resident=person):
                    continue  # writers count as raising the topic, not as its supporters
                if not Support.objects.filter(topic=topic, resident=person).exists():
                    services.support_topic(topic=topic, resident=person)
    # The council takes the shortlisted topics on (sessions, votes, decisions, follow-up).
    council.seed()
    # Writers of the topic the council closed answer the satisfaction question.
    meals = topic_by_key["meals"][0]
    meals.refresh_from_db()
    if meals.status == Topic.Status.CLOSED:
        for number, letter in enumerate(meals.letters.filter(writer__isnull=False, satisfied__isnull=True)):
            services.record_satisfaction(letter=letter, writer=letter.writer, satisfied=number % 3 != 2)
    # Seeding does not mail every demo writer: their timeline steps count as told.
    LetterEvent.objects.filter(notified_at__isnull=True, letter__external_id__startswith="demo-").update(
        notified_at=timezone.now()
    )


def summary() -> str:
    letters = Letter.objects.filter(external_id__startswith="demo-")
    channels = ", ".join(
        f"{count} {channel}" for channel, count in sorted(letters.values_list("channel").annotate(n=Count("pk")))
    )
    mailbox = (
        f"Mailbox: {letters.count()} letters ({channels}), {Topic.objects.count()} topics, {Support.objects.count()} supports."
    )
    return f"{mailbox}\n{council.summary()}"
