"""Demo classes and activities for `manage.py seed_demo`, in Chinese and English.

An activity list under each language's home page and 16 activities of the demo street
(classes, activities, volunteering; children, teens, adults and seniors; some for one
community, most for the whole street), with sessions as real rows in the coming five
weeks. The demo residents book them through `events.services.book_session`, so every
rule holds: some sessions are full with a waiting list, a calligraphy course is booked
as a whole, one draw is still taking applications and one has run with a published seed.

Idempotent: an activity that exists (matched by slug) is left as it is, with its
sessions and bookings, so a second run creates nothing. English pages are translations
of the Chinese ones through wagtail-localize (home.factories.translate). The residents
are invented: seeding runs muted (outbox.services.muted) and sends them nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from events import factories, services
from events.models import ActivityIndexPage, ActivityPage, Booking, Draw, HouseholdMember, Session
from home import factories as home_factories
from home.models import Community
from outbox.services import muted

from .content import Text, p
from .pages import ensure_translated, plain, stream, text_pairs
from .street import DEMO_EMAIL_DOMAIN

INDEX_SLUG = "activities"
INDEX_TITLE = "课程活动"
INDEX_TITLE_EN = "Classes and activities"
INDEX_INTRO = "运河湾街道各社区的课程、活动和志愿服务。在线预约，满员可排队候补，热门课程摇号。"
INDEX_INTRO_EN = (
    "Classes, activities and volunteering in the communities of Yunhewan Street. "
    "Book online; when a session is full, join the waiting list; popular classes use a draw."
)
# The published seed of the canal walk's draw, so the demo's draw result is the same on every machine.
CANAL_WALK_SEED = "yunhewan-2026-canal-walk"

# Session times: (week, weekday, start, end). Week 1 is the week after the day of seeding,
# weekday 0 is Monday.
Slot = tuple[int, int, str, str]


@dataclass(frozen=True)
class Kid:
    """A household member a demo resident books for."""

    parent: str  # a demo login
    name: str
    age: int  # this year
    relation: str = HouseholdMember.Relation.CHILD


@dataclass(frozen=True)
class DemoActivity:
    slug: str
    zh: Text
    en: Text
    organiser: tuple[str, str]  # Chinese, English
    venue: tuple[str, str]
    kind: str
    category: str
    age_band: str
    capacity: int
    slots: tuple[Slot, ...] = ()
    # A weekly course: (first week, last week, weekday, start, end), made with plan_series.
    weekly: tuple[int, int, int, str, str] | None = None
    community: str = ""  # a community code; empty for the whole street
    booked_as: str = "session"
    allocation: str = "first_come"
    points: int = 0
    opens_in_days: int | None = None  # booking opens later
    closes_in_days: int | None = None  # a draw's applications close
    draw_ran: bool = False  # applications closed yesterday and the draw ran
    first_timer_priority: bool = False
    # Who books, per session index: demo logins, or "kid:<name>" for a household member.
    bookings: dict[int, tuple[str, ...]] = field(default_factory=dict)


KIDS = (
    Kid("chen.jing", "陈可馨", 9),
    Kid("liu.wei", "刘子轩", 11),
    Kid("liu.wei", "刘德明", 78, HouseholdMember.Relation.PARENT),
    Kid("yang.yang", "杨朵朵", 7),
    Kid("omar.haddad", "Layla Haddad", 8),
    Kid("guo.li", "郭小雨", 10, HouseholdMember.Relation.OTHER),
    Kid("sun.yue", "孙小满", 4),
    Kid("ma.xiaodong", "马一诺", 5),
    Kid("ma.xiaodong", "马一鸣", 10),
    Kid("wu.lijuan", "吴思远", 14),
    Kid("david.kim", "Ethan Kim", 15),
)

LIUHE_HOME = ("六和社区文化家园", "Liuhe Community Culture Home")
JIANGNAN_HALL = ("江南社区邻里中心", "Jiangnan Community Neighbourhood Centre")
STREET_CENTRE = ("运河湾街道社区服务中心三楼", "Yunhewan Street Community Service Centre, 3rd floor")

ACTIVITIES = (
    DemoActivity(
        slug="paper-cutting-for-children",
        zh=Text(
            "少儿非遗剪纸课",
            "跟剪纸非遗传承人学剪窗花、生肖和运河船，每次带走一件作品。",
            (
                (
                    "paragraph",
                    p(
                        "剪纸是国家级非物质文化遗产。课程由区级剪纸传承人授课，适合7至12岁的孩子。",
                        "剪刀和红纸由社区准备，请家长接送。",
                    ),
                ),
            ),
        ),
        en=Text(
            "Paper-cutting for children (intangible heritage)",
            "Learn to cut window flowers, zodiac animals and canal boats from a heritage master; take a piece home each time.",
            (
                (
                    "paragraph",
                    p(
                        "Paper-cutting is a national intangible cultural heritage. The class is taught by a district-listed "
                        "paper-cutting master and suits children aged 7 to 12.",
                        "Scissors and red paper are provided by the community; parents please drop off and collect.",
                    ),
                ),
            ),
        ),
        organiser=("沈秀兰老师（区级剪纸传承人）", "Ms Shen Xiulan (district paper-cutting master)"),
        venue=LIUHE_HOME,
        kind="class",
        category="heritage",
        age_band="7-12",
        capacity=4,
        community="liuhe",
        points=5,
        slots=((1, 5, "09:30", "11:00"), (2, 5, "09:30", "11:00"), (3, 5, "09:30", "11:00")),
        bookings={
            0: ("kid:陈可馨", "kid:刘子轩", "kid:杨朵朵", "kid:Layla Haddad", "kid:郭小雨"),
            1: ("kid:陈可馨", "kid:郭小雨"),
        },
    ),
    DemoActivity(
        slug="calligraphy-course",
        zh=Text(
            "书法入门五周课",
            "每周三晚上练楷书，五次课连报，从握笔到写一副春联。",
            (
                (
                    "paragraph",
                    p("由社区书法爱好者协会的老师授课，笔墨纸砚自备或现场借用。", "本课程整期报名，五次课一起预约、一起取消。"),
                ),
            ),
        ),
        en=Text(
            "Calligraphy for beginners, five weeks",
            "Regular script on Wednesday evenings, booked as one course: from holding the brush to writing a pair of Spring Festival couplets.",
            (
                (
                    "paragraph",
                    p(
                        "Taught by a teacher of the community calligraphy club; bring your own brush, ink and paper or borrow them on site.",
                        "The course is booked as a whole: the five sessions are booked and cancelled together.",
                    ),
                ),
            ),
        ),
        organiser=("钱墨林老师", "Mr Qian Molin"),
        venue=STREET_CENTRE,
        kind="class",
        category="culture",
        age_band="adults",
        capacity=6,
        booked_as="series",
        points=10,
        weekly=(1, 5, 2, "19:00", "20:30"),
        bookings={0: ("liu.wei", "chen.jing", "guo.li", "zhou.zhiqiang", "wu.lijuan", "david.kim", "xu.haoran")},
    ),
    DemoActivity(
        slug="tai-chi-for-seniors",
        zh=Text(
            "老年太极拳晨练班",
            "每周二、四清晨在运河广场练二十四式太极拳，动作舒缓，适合60岁以上的居民。",
            (("paragraph", p("请穿宽松衣服和平底鞋。雨天改在街道社区服务中心一楼活动室。")),),
        ),
        en=Text(
            "Morning tai chi for seniors",
            "The 24-form tai chi on the canal square on Tuesday and Thursday mornings: gentle movements for residents aged 60 and over.",
            (
                (
                    "paragraph",
                    p(
                        "Wear loose clothes and flat shoes. On rainy days we meet in the ground-floor hall of the street service centre."
                    ),
                ),
            ),
        ),
        organiser=("街道老年体协 周师傅", "Master Zhou, Street Seniors' Sports Association"),
        venue=("运河广场", "Canal Square"),
        kind="class",
        category="sports",
        age_band="60+",
        capacity=15,
        points=3,
        slots=((1, 1, "07:00", "08:00"), (1, 3, "07:00", "08:00"), (2, 1, "07:00", "08:00"), (2, 3, "07:00", "08:00")),
        bookings={
            0: ("wang.xiuying", "li.jianguo", "zhang.guifang", "zhou.zhiqiang", "hu.ming"),
            1: ("wang.xiuying", "hu.ming", "kid:刘德明"),
        },
    ),
    DemoActivity(
        slug="smartphone-class-for-seniors",
        zh=Text(
            "老年人智能手机课",
            "志愿者一对一教用健康码、微信视频、网上挂号和在邻里网站预约活动。",
            (("paragraph", p("每期三人，每人一位青年志愿者陪练。请带上自己的手机和充电器。")),),
        ),
        en=Text(
            "Smartphone class for seniors",
            "Volunteers teach one to one: health codes, WeChat video calls, booking a doctor online and booking activities on Linli.",
            (
                (
                    "paragraph",
                    p(
                        "Three places per session, each with a young volunteer beside you. Please bring your own phone and charger."
                    ),
                ),
            ),
        ),
        organiser=("六和社区青年志愿者队", "Liuhe youth volunteers"),
        venue=LIUHE_HOME,
        kind="class",
        category="skills",
        age_band="60+",
        capacity=3,
        community="liuhe",
        points=3,
        slots=((1, 0, "14:30", "16:00"), (2, 0, "14:30", "16:00"), (3, 0, "14:30", "16:00")),
        bookings={0: ("wang.xiuying", "li.jianguo", "zhang.guifang", "kid:刘德明"), 1: ("zhang.guifang",)},
    ),
    DemoActivity(
        slug="garbage-sorting-duty",
        zh=Text(
            "垃圾分类督导志愿服务",
            "周六早上在小区投放点值守，提醒邻居分类投放，每班两小时。",
            (("paragraph", p("社区提供马甲和手套。值守结束后记录志愿时长并发放积分。")),),
        ),
        en=Text(
            "Garbage-sorting duty (volunteering)",
            "Stand at an estate's collection point on Saturday morning and help neighbours sort their rubbish; two-hour shifts.",
            (
                (
                    "paragraph",
                    p("Vests and gloves are provided. Your volunteer hours are recorded and points awarded after the shift."),
                ),
            ),
        ),
        organiser=("江南社区环境卫生组", "Jiangnan Community environment team"),
        venue=("江南春晓小区东门投放点", "East gate collection point, Jiangnan Chunxiao estate"),
        kind="volunteering",
        category="service",
        age_band="adults",
        capacity=4,
        community="jiangnan",
        points=8,
        slots=((1, 5, "07:00", "09:00"), (2, 5, "07:00", "09:00"), (3, 5, "07:00", "09:00"), (4, 5, "07:00", "09:00")),
        bookings={0: ("zhou.zhiqiang", "wu.lijuan", "xu.haoran", "sun.yue", "zhu.tingting"), 1: ("ma.xiaodong",)},
    ),
    DemoActivity(
        slug="children-reading-club",
        zh=Text(
            "周末少儿阅读会",
            "暑期阅读计划的延续：每周日上午共读一本绘本或桥梁书，读完一起画、一起演。",
            (("paragraph", p("由街道图书馆馆员和大学生志愿者带领。读完十本可领取阅读小达人证书。")),),
        ),
        en=Text(
            "Weekend children's reading club",
            "The summer reading programme continues: every Sunday morning we read a picture book or early chapter book together, then draw and act it out.",
            (
                (
                    "paragraph",
                    p(
                        "Led by the street library's librarian and student volunteers. Children who read ten books get a Young Reader certificate."
                    ),
                ),
            ),
        ),
        organiser=("街道图书馆", "Street library"),
        venue=("运河湾街道图书馆", "Yunhewan Street Library"),
        kind="activity",
        category="culture",
        age_band="7-12",
        capacity=12,
        points=3,
        slots=((1, 6, "10:00", "11:30"), (2, 6, "10:00", "11:30"), (3, 6, "10:00", "11:30"), (4, 6, "10:00", "11:30")),
        bookings={0: ("kid:马一鸣", "kid:杨朵朵", "kid:Layla Haddad")},
    ),
    DemoActivity(
        slug="fan-painting",
        zh=Text(
            "团扇绘画体验",
            "在素绢团扇上画西湖荷花，学习工笔勾线和晕染。",
            (("paragraph", p("材料费由街道承担，作品可带回家。零基础也可参加。")),),
        ),
        en=Text(
            "Painting a round silk fan",
            "Paint West Lake lotus flowers on a plain silk fan and learn fine-line drawing and colour washes.",
            (("paragraph", p("The street pays for the materials; take your fan home. No experience needed.")),),
        ),
        organiser=("杭州画院志愿者 林老师", "Ms Lin, volunteer from the Hangzhou Painting Academy"),
        venue=STREET_CENTRE,
        kind="activity",
        category="handicraft",
        age_band="adults",
        capacity=12,
        points=3,
        slots=((2, 5, "14:00", "16:30"),),
        bookings={0: ("chen.jing", "zhao.min", "priya.sharma", "zhu.tingting")},
    ),
    DemoActivity(
        slug="longjing-tea-art",
        zh=Text(
            "龙井茶艺课",
            "认识西湖龙井，学习玻璃杯冲泡和奉茶礼仪。",
            (("paragraph", p("茶艺师现场演示，每人动手冲泡三次。名额少，报满后可排队候补。")),),
        ),
        en=Text(
            "Longjing tea art",
            "Get to know West Lake Longjing tea and learn to brew it in a glass and serve it with the proper etiquette.",
            (
                (
                    "paragraph",
                    p(
                        "A tea master demonstrates, and everyone brews three times. Places are few: when full, join the waiting list."
                    ),
                ),
            ),
        ),
        organiser=("茶艺师 许静", "Xu Jing, tea master"),
        venue=JIANGNAN_HALL,
        kind="class",
        category="culture",
        age_band="adults",
        capacity=5,
        community="jiangnan",
        points=5,
        slots=((1, 4, "19:00", "20:30"), (3, 4, "19:00", "20:30")),
        bookings={0: ("ma.xiaodong", "zhu.tingting", "anna.mueller", "david.kim", "priya.sharma", "sun.yue")},
    ),
    DemoActivity(
        slug="first-aid-training",
        zh=Text(
            "应急救护培训（心肺复苏与AED）",
            "红十字会培训师教心肺复苏、AED使用和海姆立克急救法，考核合格发证。",
            (("paragraph", p("培训三小时，含实操考核。报名三天后开放，请留意。")),),
        ),
        en=Text(
            "First-aid training (CPR and AED)",
            "Red Cross trainers teach CPR, using an AED and the Heimlich manoeuvre; a certificate for those who pass.",
            (("paragraph", p("Three hours including a practical test. Booking opens in three days.")),),
        ),
        organiser=("拱墅区红十字会", "Gongshu District Red Cross"),
        venue=STREET_CENTRE,
        kind="class",
        category="health",
        age_band="adults",
        capacity=30,
        points=10,
        opens_in_days=3,
        slots=((3, 5, "09:00", "12:00"),),
    ),
    DemoActivity(
        slug="meal-delivery-volunteers",
        zh=Text(
            "助老送餐志愿服务",
            "工作日中午把长者食堂的午餐送到独居老人家中，顺便陪老人聊聊天。",
            (("paragraph", p("每班三人，从长者食堂出发，路线由社工安排。请提前十分钟到达。")),),
        ),
        en=Text(
            "Meal delivery for elderly neighbours (volunteering)",
            "On weekdays at noon, take lunch from the seniors' canteen to elderly neighbours who live alone, and stay for a chat.",
            (
                (
                    "paragraph",
                    p(
                        "Three volunteers per shift, starting at the seniors' canteen; a social worker plans the routes. Please arrive ten minutes early."
                    ),
                ),
            ),
        ),
        organiser=("六和社区社工站", "Liuhe Community social work station"),
        venue=("六和社区长者食堂", "Liuhe Community seniors' canteen"),
        kind="volunteering",
        category="service",
        age_band="adults",
        capacity=3,
        community="liuhe",
        points=8,
        slots=tuple((1, day, "10:30", "12:30") for day in range(5)),
        bookings={0: ("zhao.min", "huang.zihan", "yang.yang"), 1: ("omar.haddad", "liu.wei")},
    ),
    DemoActivity(
        slug="picture-book-time",
        zh=Text(
            "亲子绘本时光",
            "3至6岁的小朋友和家长一起听绘本故事、做小手工。",
            (("paragraph", p("请一位家长陪同。活动室铺有地垫，请带袜子。")),),
        ),
        en=Text(
            "Picture-book time for little ones",
            "Children aged 3 to 6 and their parents listen to picture-book stories and make small crafts.",
            (("paragraph", p("One parent comes along. The room has floor mats: please bring socks.")),),
        ),
        organiser=("江南社区妈妈志愿者", "Jiangnan parent volunteers"),
        venue=JIANGNAN_HALL,
        kind="activity",
        category="interest",
        age_band="3-6",
        capacity=8,
        community="jiangnan",
        points=2,
        slots=((2, 5, "15:00", "16:00"), (4, 5, "15:00", "16:00")),
        bookings={0: ("kid:孙小满", "kid:马一诺")},
    ),
    DemoActivity(
        slug="coding-for-teens",
        zh=Text(
            "青少年编程入门",
            "从Scratch到Python，做一个会动的运河小游戏。",
            (("paragraph", p("社区提供电脑。由浙大计算机学院志愿者授课，共四次，可按次预约。")),),
        ),
        en=Text(
            "Coding for teenagers",
            "From Scratch to Python: make a small moving canal game.",
            (
                (
                    "paragraph",
                    p(
                        "Computers are provided. Taught by volunteers from Zhejiang University's computer science college; four sessions, booked one by one."
                    ),
                ),
            ),
        ),
        organiser=("浙江大学青年志愿者", "Zhejiang University student volunteers"),
        venue=STREET_CENTRE,
        kind="class",
        category="skills",
        age_band="13-17",
        capacity=10,
        points=5,
        slots=((1, 6, "14:00", "16:00"), (2, 6, "14:00", "16:00"), (3, 6, "14:00", "16:00"), (4, 6, "14:00", "16:00")),
        bookings={0: ("kid:吴思远", "kid:Ethan Kim")},
    ),
    DemoActivity(
        slug="free-health-check",
        zh=Text(
            "社区义诊",
            "社区卫生服务中心医生上门：量血压、测血糖、中医问诊和用药咨询。",
            (("paragraph", p("请空腹前来测血糖，并带上医保卡和正在服用的药品清单。")),),
        ),
        en=Text(
            "Free health check",
            "Doctors from the community health centre come to us: blood pressure, blood sugar, traditional Chinese medicine consultations and advice on medicines.",
            (
                (
                    "paragraph",
                    p(
                        "Come without breakfast for the blood-sugar test, and bring your medical insurance card and a list of the medicines you take."
                    ),
                ),
            ),
        ),
        organiser=("运河湾社区卫生服务中心", "Yunhewan community health centre"),
        venue=STREET_CENTRE,
        kind="activity",
        category="health",
        age_band="all",
        capacity=30,
        slots=((2, 3, "08:30", "11:30"),),
        bookings={0: ("li.jianguo", "hu.ming", "wu.lijuan", "guo.li", "anna.mueller", "kid:刘德明")},
    ),
    DemoActivity(
        slug="canal-heritage-walk",
        zh=Text(
            "运河文化走读",
            "沿京杭大运河拱宸桥段走读，听老街坊讲码头、丝厂和桥的故事。",
            (("paragraph", p("报名人数多，名额通过摇号分配。种子和结果公开，任何人都可以复核。")),),
        ),
        en=Text(
            "Canal heritage walk",
            "Walk the Grand Canal by Gongchen Bridge and hear old neighbours tell stories of the wharves, the silk mills and the bridges.",
            (
                (
                    "paragraph",
                    p(
                        "Many people applied, so places were given by a draw. Its seed and result are public: anyone can check them."
                    ),
                ),
            ),
        ),
        organiser=("运河湾街道文化站", "Yunhewan Street culture station"),
        venue=("拱宸桥西广场集合", "Meet at the square west of Gongchen Bridge"),
        kind="activity",
        category="culture",
        age_band="all",
        capacity=6,
        allocation="draw",
        draw_ran=True,
        points=3,
        slots=((2, 6, "09:00", "11:30"),),
        bookings={
            0: (
                "liu.wei",
                "chen.jing",
                "yang.yang",
                "omar.haddad",
                "xu.haoran",
                "ma.xiaodong",
                "anna.mueller",
                "david.kim",
                "huang.zihan",
            )
        },
    ),
    DemoActivity(
        slug="west-lake-silk-umbrella",
        zh=Text(
            "西湖绸伞制作体验",
            "跟国家级非遗西湖绸伞传承人做一把小绸伞。名额摇号，首次参加者优先。",
            (("paragraph", p("申请期截止后系统自动摇号，结果和种子公开。未中签者按摇号顺序候补。")),),
        ),
        en=Text(
            "Making a West Lake silk umbrella",
            "Make a small silk umbrella with a master of this national intangible heritage. Places by draw; first-timers first.",
            (
                (
                    "paragraph",
                    p(
                        "When applications close, the draw runs by itself and its result and seed are published. "
                        "Those not drawn wait in the order of the draw."
                    ),
                ),
            ),
        ),
        organiser=("西湖绸伞传承人 宋师傅", "Master Song, West Lake silk umbrella heritage"),
        venue=STREET_CENTRE,
        kind="class",
        category="heritage",
        age_band="adults",
        capacity=8,
        allocation="draw",
        closes_in_days=5,
        first_timer_priority=True,
        points=5,
        slots=((3, 5, "14:00", "16:30"),),
        bookings={0: ("guo.li", "zhao.min", "sun.yue", "zhu.tingting", "priya.sharma", "wu.lijuan", "chen.jing")},
    ),
    DemoActivity(
        slug="winter-solstice-tangyuan",
        zh=Text(
            "冬至包汤圆",
            "冬至前邻里一起包汤圆、煮汤圆，给社区独居老人送一碗。",
            (("paragraph", p("糯米粉和馅料由社区准备。欢迎带孩子参加。")),),
        ),
        en=Text(
            "Making tangyuan for the Winter Solstice",
            "Before the Winter Solstice, neighbours make and cook sweet rice balls together and take a bowl to elderly neighbours who live alone.",
            (("paragraph", p("Rice flour and fillings are provided by the community. Children are welcome.")),),
        ),
        organiser=("江南社区居委会", "Jiangnan residents' committee"),
        venue=JIANGNAN_HALL,
        kind="activity",
        category="interest",
        age_band="all",
        capacity=20,
        community="jiangnan",
        points=3,
        slots=((4, 5, "15:30", "17:00"),),
        bookings={0: ("zhou.zhiqiang", "ma.xiaodong", "kid:马一鸣", "anna.mueller")},
    ),
)


def seed() -> None:
    with muted():  # the demo residents are invented: their bookings tell nobody
        index = seed_index()
        members = seed_household_members()
        for demo in ACTIVITIES:
            seed_activity(demo, index, members)


def seed_index() -> ActivityIndexPage:
    home = home_factories.home_page()
    index = ActivityIndexPage.objects.child_of(home).filter(slug=INDEX_SLUG).first()
    if index is None:
        index = factories.activity_index(title=INDEX_TITLE, slug=INDEX_SLUG)
        index.intro = INDEX_INTRO
        index.save_revision().publish()
    ensure_translated(
        ActivityIndexPage.objects.get(pk=index.pk),
        {plain(INDEX_TITLE): plain(INDEX_TITLE_EN), INDEX_SLUG: INDEX_SLUG, plain(INDEX_INTRO): plain(INDEX_INTRO_EN)},
    )
    return index


def resident(login: str):
    return get_user_model().objects.select_related("profile").get(username=f"demo-{login}")


def seed_household_members() -> dict[str, HouseholdMember]:
    this_year = timezone.localdate().year
    members = {}
    for kid in KIDS:
        parent = resident(kid.parent)
        member = HouseholdMember.objects.filter(resident=parent, name=kid.name).first()
        if member is None:
            member = services.add_household_member(
                resident=parent,
                name=kid.name,
                birth_year=this_year - kid.age,
                relation=kid.relation,
                guardian_consent=kid.age < services.GUARDIAN_CONSENT_UNDER,
            )
        members[kid.name] = member
    return members


def session_day(week: int, weekday: int) -> datetime.date:
    """The weekday of the week-th week after this one."""
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=week, days=weekday)


def at(day: datetime.date, clock: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(clock), tzinfo=timezone.get_current_timezone())


def seed_activity(demo: DemoActivity, index: ActivityIndexPage, members: dict[str, HouseholdMember]) -> ActivityPage:
    page = ActivityPage.objects.child_of(index).filter(slug=demo.slug).first()
    if page is None:
        page = create_activity(demo, index, members)
    strings = text_pairs(demo.zh, demo.en, slug=demo.slug)
    strings.update({plain(zh): plain(en) for zh, en in (demo.organiser, demo.venue)})
    ensure_translated(ActivityPage.objects.get(pk=page.pk), strings)
    return page


def create_activity(demo: DemoActivity, index: ActivityIndexPage, members: dict[str, HouseholdMember]) -> ActivityPage:
    now = timezone.now()
    community = Community.objects.get(code=demo.community) if demo.community else None
    page = factories.activity(
        index,
        title=demo.zh.title,
        slug=demo.slug,
        summary=demo.zh.summary,
        description=stream(demo.zh),
        organiser=demo.organiser[0],
        venue=demo.venue[0],
        kind=demo.kind,
        category=demo.category,
        age_band=demo.age_band,
        community=community,
        points=demo.points,
        booking_unit=demo.booked_as,
        allocation=demo.allocation,
        first_timer_priority=demo.first_timer_priority,
        booking_opens_at=now + datetime.timedelta(days=demo.opens_in_days) if demo.opens_in_days else None,
        # A draw that already ran took applications until a moment ago (closed below, before the draw).
        booking_closes_at=(now + datetime.timedelta(days=demo.closes_in_days or 1) if demo.allocation == "draw" else None),
    )
    if demo.weekly is not None:
        first_week, last_week, weekday, start, end = demo.weekly
        weeks = last_week - first_week + 1
        for extra in range(4):  # a week lost to a public holiday moves the course's last session a week later
            planned = services.plan_series(
                first_day=session_day(first_week, weekday),
                last_day=session_day(last_week + extra, weekday),
                weekdays={weekday},
                start=datetime.time.fromisoformat(start),
                end=datetime.time.fromisoformat(end),
            )
            if len(planned) >= weeks:
                break
        sessions = services.create_sessions(activity=page, planned=planned, capacity=demo.capacity)
    else:
        planned = [
            services.PlannedSession(
                starts_at=at(session_day(week, weekday), start),
                ends_at=at(session_day(week, weekday), end),
                holiday=services.holiday_name(session_day(week, weekday)),
                makeup_workday=False,
            )
            for week, weekday, start, end in demo.slots
        ]
        sessions = services.create_sessions(activity=page, planned=planned, capacity=demo.capacity)
    for number, participants in demo.bookings.items():
        for participant in participants:
            if participant.startswith("kid:"):
                member = members[participant[len("kid:") :]]
                booker = member.resident
            else:
                member, booker = None, resident(participant)
            services.book_session(session=sessions[number], resident=booker, actor=booker, member=member)
    if demo.draw_ran:
        page.booking_closes_at = now - datetime.timedelta(minutes=1)
        page.save_revision().publish()
        page.refresh_from_db()
        services.run_draw(session=sessions[0], seed=CANAL_WALK_SEED)
    return page


def summary() -> str:
    activities = ActivityPage.objects.filter(slug__in=[demo.slug for demo in ACTIVITIES])
    by_language = {
        language: activities.filter(locale__language_code=language).count() for language in (settings.LANGUAGE_CODE, "en")
    }
    sessions = Session.objects.filter(activity__in=activities)
    bookings = Booking.objects.filter(session__in=sessions)
    statuses = {status: bookings.filter(status=status).count() for status in Booking.Status.values}
    full = sum(1 for session in sessions if session.is_full)
    return (
        f"Activities: {by_language['zh-hans']} zh-hans / {by_language['en']} en, {sessions.count()} sessions "
        f"({full} full), {bookings.count()} bookings ({statuses['confirmed']} confirmed, "
        f"{statuses['waitlisted']} waiting, {statuses['applied']} applied to a draw), "
        f"{Draw.objects.filter(session__in=sessions).count()} draw run; "
        f"household members of demo residents: "
        f"{HouseholdMember.objects.filter(resident__email__endswith='@' + DEMO_EMAIL_DOMAIN).count()}."
    )
