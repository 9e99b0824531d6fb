"""The demo content of `manage.py seed_demo`, in Chinese and English, as plain data.

The street (运河湾街道, Yunhewan Street, Gongshu District, Hangzhou) and everybody in it
are invented; the life they lead follows the "future community" features in
/work/shared/seeds: classes booked on phones, a neighbour teaching calligraphy in the
summer, points exchanged for gifts, garbage sorting, volunteering, health checks, the
resident mailbox and the residents' council.

Each page is written twice with the same shape (`zh` and `en`): the seed command pairs
the Chinese and English texts block by block and gives them to wagtail-localize as
translations. Tables are written once with bilingual cells ("环节 Step"): the Chinese page gets the
Chinese cells and wagtail-localize the English ones, cell by cell (home.blocks.TranslatableTableBlock;
it does not translate the cells of Wagtail's TableBlock, wagtail-localize issue #302).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A body block: ("heading", text), ("paragraph", rich-text HTML) or ("table", Table).
Block = tuple[str, object]


def p(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def ul(*items: str) -> str:
    return "<ul>" + "".join(f"<li>{text}</li>" for text in items) + "</ul>"


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]")


def split_cell(cell: str) -> tuple[str, str]:
    """A bilingual cell ("2个工作日 2 working days") as its Chinese and English parts: split at the first space
    after which no Chinese follows. A cell without Chinese ("7:00–9:00", "30") is the same in both."""
    if not _CJK.search(cell):
        return cell, cell
    for index, character in enumerate(cell):
        if character == " " and not _CJK.search(cell[index:]):
            return cell[:index].strip(), cell[index:].strip()
    raise ValueError(f"The table cell {cell!r} has no English part")


@dataclass(frozen=True)
class Table:
    """A table whose first row is the header, written with bilingual cells ("环节 Step"); the seed stores the
    Chinese cells on the Chinese page and gives the English ones to wagtail-localize cell by cell."""

    rows: tuple[tuple[str, ...], ...]

    def cells(self, language: str) -> list[list[str]]:
        part = 0 if language.startswith("zh") else 1
        return [[split_cell(cell)[part] for cell in row] for row in self.rows]

    def as_block_value(self, language: str = "zh-hans") -> dict:
        """The value of home.blocks.TranslatableTableBlock in one language."""
        header, *rows = self.cells(language)
        return {"caption": "", "header": header, "rows": [{"cells": row} for row in rows]}


@dataclass(frozen=True)
class Text:
    """One language version of a page."""

    title: str
    summary: str = ""  # NoticePage.summary, StandardPage.intro (plain text)
    body: tuple[Block, ...] = ()


@dataclass(frozen=True)
class DemoNotice:
    slug: str
    category: str  # a NoticePage.Category value
    days_ago: int  # publication date, counted back from the day of seeding
    zh: Text
    en: Text
    community: str = ""  # a community code; empty for street-wide notices
    pinned: bool = False
    expires_in_days: int | None = None  # negative: already expired


@dataclass(frozen=True)
class DemoPage:
    slug: str
    zh: Text
    en: Text


@dataclass(frozen=True)
class DemoGrid:
    number: int
    name: str
    name_en: str


@dataclass(frozen=True)
class DemoCommunity:
    code: str
    name: str
    name_en: str
    description: str
    description_en: str
    grids: tuple[DemoGrid, ...]


@dataclass(frozen=True)
class DemoPerson:
    login: str  # username "demo-<login>", e-mail "<login>@linli.localhost"
    display_name: str
    community: str
    grid: int | None = None
    birth_year: int | None = None
    mobile: str = ""
    building_unit: str = ""
    language: str = "zh-hans"
    large_text: bool = False
    role: str = ""  # "", "staff" (the community's editors group) or "head" (its heads group)


@dataclass(frozen=True)
class Contact:
    hotline: str
    email: str
    address: str
    address_en: str
    footer: str
    footer_en: str


@dataclass(frozen=True)
class DemoSite:
    home_intro: str
    home_intro_en: str
    notices_title: str
    notices_title_en: str
    notices_intro: str
    notices_intro_en: str
    communities: tuple[DemoCommunity, ...]
    people: tuple[DemoPerson, ...]
    notices: tuple[DemoNotice, ...]
    pages: tuple[DemoPage, ...]
    contact: Contact


# ---------------------------------------------------------------------------
# Communities and grids

COMMUNITIES = (
    DemoCommunity(
        code="liuhe",
        name="六和社区",
        name_en="Liuhe Community",
        description="运河湾街道北部的老城区社区，约3200户、9000余名居民，以改造后的多层住宅为主，老年居民较多。",
        description_en=(
            "An older neighbourhood in the north of Yunhewan Street: about 3,200 households and more than 9,000 residents "
            "in renovated low-rise blocks, with many older residents."
        ),
        grids=(
            DemoGrid(1, "第1网格 · 六和苑", "Grid 1 · Liuhe Garden"),
            DemoGrid(2, "第2网格 · 桂花里", "Grid 2 · Osmanthus Lane"),
            DemoGrid(3, "第3网格 · 运河人家", "Grid 3 · Canal Homes"),
            DemoGrid(4, "第4网格 · 枫华府", "Grid 4 · Fenghua Residence"),
        ),
    ),
    DemoCommunity(
        code="jiangnan",
        name="江南社区",
        name_en="Jiangnan Community",
        description="2019年建成的融合型大社区，5个新建小区，约4600户、1.5万名居民，八成是新杭州人，外籍居民也不少。",
        description_en=(
            "A large, mixed community completed in 2019: five new residential compounds, about 4,600 households and "
            "15,000 residents. Eight in ten are newcomers to Hangzhou, and many are foreign residents."
        ),
        grids=(
            DemoGrid(1, "第1网格 · 江南春晓", "Grid 1 · Jiangnan Spring"),
            DemoGrid(2, "第2网格 · 青枫苑", "Grid 2 · Green Maple Court"),
            DemoGrid(3, "第3网格 · 锦绣里", "Grid 3 · Jinxiu Lane"),
        ),
    ),
)

# ---------------------------------------------------------------------------
# Residents (20) and staff (a staff member and a head per community)

PEOPLE = (
    DemoPerson("wang.xiuying", "王秀英", "liuhe", 1, 1946, "13905710101", "六和苑2幢1单元", large_text=True),
    DemoPerson("li.jianguo", "李建国", "liuhe", 2, 1951, "13905710102", "桂花里5幢2单元", large_text=True),
    DemoPerson("zhang.guifang", "张桂芳", "liuhe", 3, 1957, "", "运河人家8幢1单元"),
    DemoPerson("liu.wei", "刘伟", "liuhe", 4, 1974, "13905710104", "枫华府3幢2单元"),
    DemoPerson("chen.jing", "陈静", "liuhe", 1, 1986, "", "六和苑6幢3单元"),
    DemoPerson("yang.yang", "杨洋", "liuhe", 2, 1993, "15857100106", "桂花里12幢1单元"),
    DemoPerson("zhao.min", "赵敏", "liuhe", 3, 2001, "", "运河人家2幢2单元"),
    DemoPerson("huang.zihan", "黄子涵", "liuhe", 4, 2007, "", "枫华府1幢1单元"),
    DemoPerson("guo.li", "郭丽", "liuhe", 1, 1970, "13905710109", "六和苑9幢2单元"),
    DemoPerson("omar.haddad", "Omar Haddad", "liuhe", 2, 1988, "18667100110", "桂花里7幢1单元", language="en"),
    DemoPerson("zhou.zhiqiang", "周志强", "jiangnan", 1, 1966, "13605710111", "江南春晓1幢1单元"),
    DemoPerson("wu.lijuan", "吴丽娟", "jiangnan", 2, 1979, "", "青枫苑4幢2单元"),
    DemoPerson("xu.haoran", "徐浩然", "jiangnan", 3, 1990, "13605710113", "锦绣里3幢1单元"),
    DemoPerson("sun.yue", "孙悦", "jiangnan", 1, 1995, "", "江南春晓6幢2单元"),
    DemoPerson("ma.xiaodong", "马晓东", "jiangnan", 2, 1983, "", "青枫苑9幢1单元"),
    DemoPerson("zhu.tingting", "朱婷婷", "jiangnan", 3, 1998, "17757100116", "锦绣里11幢2单元"),
    DemoPerson("hu.ming", "胡明", "jiangnan", 1, 1961, "", "江南春晓3幢1单元"),
    DemoPerson("anna.mueller", "Anna Müller", "jiangnan", 2, 1985, "", "青枫苑2幢1单元", language="en"),
    DemoPerson("david.kim", "David Kim", "jiangnan", 3, 1979, "18667100119", "锦绣里5幢2单元", language="en"),
    DemoPerson("priya.sharma", "Priya Sharma", "jiangnan", 1, 2003, "", "江南春晓8幢1单元", language="en"),
    # Staff: a community worker (editor) and the community head per community.
    DemoPerson("liuhe.staff", "陈晓燕", "liuhe", birth_year=1988, role="staff"),
    DemoPerson("liuhe.head", "林国华", "liuhe", birth_year=1972, role="head"),
    DemoPerson("jiangnan.staff", "沈佳怡", "jiangnan", birth_year=1994, role="staff"),
    DemoPerson("jiangnan.head", "顾建平", "jiangnan", birth_year=1976, role="head"),
)

# ---------------------------------------------------------------------------
# Notices (15): street-wide and per community, in every category

NOTICES = (
    DemoNotice(
        slug="resident-mailbox",
        category="general",
        days_ago=3,
        pinned=True,
        zh=Text(
            title="居民信箱上线：每一封来信都有回音",
            summary="登录后在“我的”页面给社区写信，随时查看办理进度，每一封信都会得到答复。",
            body=(
                ("heading", "怎样写信"),
                (
                    "paragraph",
                    p(
                        "登录邻里平台，打开“我的”页面，选择“写信给社区”。请写清楚事情发生在哪里、现在是什么情况、您希望怎样解决，也可以附上照片。",
                        "不方便用手机的居民，可以到社区服务站请工作人员代为登记，效果完全一样。",
                    ),
                ),
                ("heading", "来信怎样办理"),
                (
                    "paragraph",
                    p(
                        "社区工作人员在两个工作日内登记来信并分类。能直接办的，转给网格员、物业或有关部门办理；"
                        "涉及多方、需要大家商量的，汇入街道的居民关切数据库，作为议事会议题的来源。",
                        "12345热线和信访转来的诉求也进入同一个数据库，同一件事不需要您再说一遍。",
                    ),
                ),
                (
                    "table",
                    Table(
                        (
                            ("环节 Step", "时限 Time limit"),
                            ("登记分类 Registered and sorted", "2个工作日 2 working days"),
                            ("首次答复 First answer", "7个工作日 7 working days"),
                            ("通报议事结果 Council outcome reported", "会后15日内 Within 15 days of the session"),
                        )
                    ),
                ),
                ("heading", "您会收到什么"),
                (
                    "paragraph",
                    p("每一封信都会得到书面答复。来信进入议事会的，议事会作出决定后，您会收到决定内容和后续落实情况。"),
                ),
            ),
        ),
        en=Text(
            title="The resident mailbox is open: every letter gets an answer",
            summary=(
                "Log in and write to your community from “My page”, follow your letter at any time – every letter gets an answer."
            ),
            body=(
                ("heading", "How to write"),
                (
                    "paragraph",
                    p(
                        "Log in to Linli, open “My page” and choose “Write to the community”. Say where it happens, what the "
                        "situation is and how you would like it solved; you can add photos.",
                        "If a phone is not convenient for you, the staff at the community service desk will register your letter "
                        "for you – it counts exactly the same.",
                    ),
                ),
                ("heading", "What happens to your letter"),
                (
                    "paragraph",
                    p(
                        "Community staff register and sort every letter within two working days. What can be fixed directly goes "
                        "to the grid worker, the property management or the responsible department; matters that involve several "
                        "parties and need discussion go into the street's database of residents' concerns, from which the "
                        "council's topics are chosen.",
                        "Requests passed on from the 12345 hotline and from petitions go into the same database, so you never "
                        "have to tell the same story twice.",
                    ),
                ),
                ("table", None),
                ("heading", "What you will hear back"),
                (
                    "paragraph",
                    p(
                        "Every letter gets a written answer. If your letter becomes a council topic, you will hear what the "
                        "council decided and how the decision is being carried out."
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="council-topics",
        category="general",
        days_ago=6,
        pinned=True,
        zh=Text(
            title="邻里议事会本季度议题公示",
            summary="根据居民来信和12345工单，本季度确定三个议题，欢迎在线表示支持、报名旁听。",
            body=(
                ("heading", "本季度议题"),
                (
                    "paragraph",
                    p(
                        "街道汇总了居民信箱来信、网络舆情和12345热线工单，从居民关切数据库中选出来信最多、涉及面最广的三个问题，"
                        "分别提交所在社区的议事会协商。"
                    ),
                ),
                (
                    "table",
                    Table(
                        (
                            ("议题 Topic", "社区 Community", "相关来信 Letters"),
                            ("电动自行车集中充电棚选址 Where to build an e-bike charging shelter", "六和 Liuhe", "37"),
                            (
                                "地下车库夜间照明与巡查 Night lighting and patrols in the underground car park",
                                "江南 Jiangnan",
                                "24",
                            ),
                            ("老旧小区加装电梯费用分摊 Sharing the cost of new lifts in older blocks", "六和 Liuhe", "19"),
                        )
                    ),
                ),
                ("heading", "怎样参与"),
                (
                    "paragraph",
                    ul(
                        "在议题页面点“支持”，支持越多的议题越优先安排。",
                        "报名旁听议事会：每个议题留10个居民旁听席位，先到先得。",
                        "议事会的决定和落实情况会在平台公布，写过相关来信的居民会单独收到通知。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Council topics for this quarter",
            summary=(
                "Three topics chosen from residents' letters and 12345 hotline cases – support them online or sign up to attend."
            ),
            body=(
                ("heading", "This quarter's topics"),
                (
                    "paragraph",
                    p(
                        "The street office brought together letters to the resident mailbox, online public opinion and 12345 "
                        "hotline cases, and chose from the database of residents' concerns the three issues raised most often "
                        "and "
                        "affecting the most people. Each goes to the council of its community."
                    ),
                ),
                ("table", None),
                ("heading", "How to take part"),
                (
                    "paragraph",
                    ul(
                        "Press “Support” on a topic page: the more support a topic has, the sooner it is scheduled.",
                        "Sign up to attend a council session: ten seats per topic are kept for residents, first come, first "
                        "served.",
                        "The council's decisions and their follow-up are published here, and residents who wrote about the issue "
                        "are told personally.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="autumn-classes",
        category="activity",
        days_ago=10,
        zh=Text(
            title="秋季全龄段课程开始报名：手机上查课、约课",
            summary="学龄前手工、学龄期非遗、中青年技能和老年兴趣四类课程共12门，在手机上就能查询和预约。",
            body=(
                ("heading", "课程一览"),
                (
                    "paragraph",
                    p("根据上季度的报名记录和居民问卷，本季开设四类共12门课程，由社区老师、志愿者和辖区单位授课，全部免费。"),
                ),
                (
                    "table",
                    Table(
                        (
                            ("类别 Type", "课程举例 For example", "时间 When", "地点 Where"),
                            (
                                "学龄前手工 Pre-school handicraft",
                                "黏土、拼贴 Clay, collage",
                                "周六 Sat 9:30",
                                "六和社区活动室 Liuhe activity room",
                            ),
                            (
                                "学龄期非遗 Intangible heritage for pupils",
                                "竹编、剪纸 Bamboo weaving, paper-cutting",
                                "周六 Sat 14:00",
                                "江南邻里中心 Jiangnan neighbourhood centre",
                            ),
                            (
                                "中青年技能 Adult skills",
                                "咖啡拉花、短视频剪辑 Latte art, video editing",
                                "周三 Wed 19:00",
                                "江南邻里中心 Jiangnan neighbourhood centre",
                            ),
                            (
                                "老年兴趣 Senior interests",
                                "智能手机、太极拳 Smartphones, tai chi",
                                "周二、周四 Tue, Thu 9:00",
                                "六和老年活动室 Liuhe seniors' room",
                            ),
                        )
                    ),
                ),
                ("heading", "怎样预约"),
                (
                    "paragraph",
                    p(
                        "在邻里平台的“课程与活动”里按年龄和时间筛选，选好场次点“预约”，即可收到电子票。名额满了可以排候补，有人取消时按顺序递补。",
                        "家里老人不会操作的，可以请网格员或社区服务站代为预约。按时签到参加课程可以获得积分。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Autumn classes for all ages: find and book them on your phone",
            summary=(
                "Twelve classes – pre-school handicraft, heritage crafts for pupils, adult skills and senior interests – to look "
                "up and book on your phone."
            ),
            body=(
                ("heading", "The classes"),
                (
                    "paragraph",
                    p(
                        "Based on last season's bookings and a residents' survey, this season offers twelve classes of four "
                        "kinds, "
                        "taught by community teachers, volunteers and local organisations – all free of charge."
                    ),
                ),
                ("table", None),
                ("heading", "How to book"),
                (
                    "paragraph",
                    p(
                        "Under “Classes and activities” on Linli, filter by age and time, pick a session and press “Book” to "
                        "receive an e-ticket. When a class is full you can join the waiting list; cancelled places go to the "
                        "waiting list in order.",
                        "If an older family member cannot do this on a phone, the grid worker or the community service desk can "
                        "book for them. Checking in on time earns points.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="summer-calligraphy",
        category="activity",
        days_ago=40,
        expires_in_days=-12,
        community="liuhe",
        zh=Text(
            title="暑期少儿书法班开始报名：邻居老师义务授课",
            summary="退休语文老师沈老师在暑假义务教孩子们写毛笔字，不收费，名额20个。",
            body=(
                ("heading", "课程安排"),
                (
                    "paragraph",
                    p(
                        "住在桂花里的退休语文老师沈老师，今年暑假继续在社区活动室义务开设少儿书法班。课程面向7至12岁的孩子，"
                        "每周二、周四上午9点至10点半，共12次，不收任何费用。",
                        "笔墨纸砚由社区准备，孩子们只需带一块旧毛巾。",
                    ),
                ),
                ("heading", "报名方式"),
                (
                    "paragraph",
                    p(
                        "在邻里平台“课程与活动”中预约，名额20个，满员后可排候补。去年参加过的孩子欢迎继续报名进阶班。",
                        "“孩子利用好了假期，还认识了很多邻居。”一位家长这样说。结课时将举办作品展，欢迎邻居们来看。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Summer calligraphy class for children, taught by a neighbour",
            summary=(
                "Mr Shen, a retired Chinese teacher, teaches children brush calligraphy free of charge in the summer holidays – "
                "20 places."
            ),
            body=(
                ("heading", "The class"),
                (
                    "paragraph",
                    p(
                        "Mr Shen, a retired Chinese-language teacher who lives in Osmanthus Lane, again offers a free "
                        "calligraphy "
                        "class for children in the community activity room this summer. It is for children aged 7 to 12, on "
                        "Tuesdays and Thursdays from 9:00 to 10:30, twelve sessions in all, at no cost.",
                        "The community provides brushes, ink and paper; children only need to bring an old towel.",
                    ),
                ),
                ("heading", "How to sign up"),
                (
                    "paragraph",
                    p(
                        "Book under “Classes and activities” on Linli. There are 20 places; when they are taken you can join the "
                        "waiting list. Children who came last year are welcome in the advanced group.",
                        "“My child made good use of the holidays and got to know many neighbours,” one parent said. An "
                        "exhibition "
                        "of the children's work closes the course – neighbours are welcome.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="points-exchange-day",
        category="general",
        days_ago=4,
        expires_in_days=9,
        zh=Text(
            title="积分兑换日：用积分换礼品和服务",
            summary="本月兑换日在两个社区服务站同时举行，参加活动、志愿服务、垃圾分类攒下的积分都可以兑换。",
            body=(
                ("heading", "积分怎么来"),
                (
                    "paragraph",
                    p(
                        "参加课程和活动签到、做志愿服务、垃圾分类准确投放、参加健康运动、提出被采纳的意见建议，都可以获得积分。"
                        "积分记录在“我的”页面随时可查。"
                    ),
                ),
                ("heading", "可以兑换什么"),
                (
                    "table",
                    Table(
                        (
                            ("兑换项目 Reward", "所需积分 Points"),
                            ("可降解垃圾袋一卷 A roll of compostable bin bags", "30"),
                            ("环保购物袋 Reusable shopping bag", "50"),
                            ("社区食堂餐券 Community canteen meal voucher", "120"),
                            ("上门清洗油烟机一次 Cooker hood cleaned at home", "300"),
                            ("“年度好邻居”推荐资格 Nomination for Good Neighbour of the Year", "500"),
                        )
                    ),
                ),
                (
                    "paragraph",
                    p(
                        "兑换时请出示“我的”页面上的积分二维码，由工作人员扫码核销。礼品数量有限，兑完为止；"
                        "老年居民可由家人或网格员代为兑换。"
                    ),
                ),
            ),
        ),
        en=Text(
            title="Points exchange day: swap your points for gifts and services",
            summary=(
                "This month's exchange day is held at both community service desks. Points from activities, volunteering and "
                "garbage sorting all count."
            ),
            body=(
                ("heading", "How you earn points"),
                (
                    "paragraph",
                    p(
                        "Checking in at classes and activities, volunteering, sorting your garbage correctly, joining health "
                        "exercise and making suggestions that are adopted all earn points. Your points record is always on "
                        "“My page”."
                    ),
                ),
                ("heading", "What you can get"),
                ("table", None),
                (
                    "paragraph",
                    p(
                        "Show the points QR code on “My page” at the desk and the staff will scan it. Gifts are limited and go "
                        "while stocks last; family members or the grid worker may exchange points for older residents."
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="kitchen-waste-hours",
        category="garbage",
        days_ago=15,
        zh=Text(
            title="垃圾分类：厨余垃圾定时定点投放时间调整",
            summary="自下周一起，各小区厨余垃圾投放点改为早晚两个时段开放，督导志愿者现场指导。",
            body=(
                ("heading", "新的投放时间"),
                (
                    "table",
                    Table(
                        (
                            ("时段 Time", "开放内容 What you can drop off"),
                            ("7:00–9:00", "厨余垃圾、其他垃圾 Kitchen waste, other waste"),
                            ("18:00–20:00", "厨余垃圾、其他垃圾 Kitchen waste, other waste"),
                            ("全天 All day", "可回收物、有害垃圾 Recyclables, hazardous waste"),
                        )
                    ),
                ),
                ("heading", "请注意"),
                (
                    "paragraph",
                    ul(
                        "厨余垃圾请沥干水分、去掉包装袋后投放。",
                        "大件垃圾和装修垃圾请预约清运，不要堆放在楼道里。",
                        "准确分类投放后扫码，可以获得积分。",
                    )
                    + p("对投放时间有意见，欢迎通过居民信箱告诉我们。"),
                ),
            ),
        ),
        en=Text(
            title="Garbage sorting: new hours for kitchen waste",
            summary=(
                "From next Monday the kitchen-waste points in every compound open in a morning and an evening slot, with "
                "volunteers on hand to help."
            ),
            body=(
                ("heading", "New drop-off hours"),
                ("table", None),
                ("heading", "Please note"),
                (
                    "paragraph",
                    ul(
                        "Drain kitchen waste and take it out of its bag before dropping it off.",
                        "Book a collection for bulky and renovation waste; please do not leave it in the stairwell.",
                        "Scan the code after sorting correctly to earn points.",
                    )
                    + p("If the new hours do not work for you, tell us through the resident mailbox."),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="sorting-volunteers",
        category="volunteer",
        days_ago=8,
        community="jiangnan",
        zh=Text(
            title="招募垃圾分类督导志愿者",
            summary="每周值守一到两个时段，帮助邻居正确分类投放，服务时长计入志愿积分。",
            body=(
                ("heading", "需要您做什么"),
                (
                    "paragraph",
                    p(
                        "在早晚投放时段到小区投放点值守，提醒和帮助邻居分类投放，记录常见问题。每班一小时，每周一到两班，"
                        "可以和家人、邻居结伴报名。"
                    ),
                ),
                ("heading", "您会得到什么"),
                (
                    "paragraph",
                    p(
                        "上岗前有半小时培训，社区提供马甲和手套。每服务一小时记20积分，年底评选优秀志愿者。",
                        "在邻里平台“志愿服务”中选择时段报名，也可以联系所在网格的网格员。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Volunteers wanted: garbage-sorting guides",
            summary=(
                "Look after a drop-off point for one or two slots a week and help neighbours sort their waste; your hours earn "
                "points."
            ),
            body=(
                ("heading", "What you would do"),
                (
                    "paragraph",
                    p(
                        "Stand at a drop-off point during the morning or evening slot, remind and help neighbours to sort their "
                        "waste, and note the usual mistakes. Each shift is one hour, one or two shifts a week; you can sign up "
                        "together with family or neighbours."
                    ),
                ),
                ("heading", "What you get"),
                (
                    "paragraph",
                    p(
                        "A half-hour training comes first, and the community provides a vest and gloves. Every hour earns 20 "
                        "points, and outstanding volunteers are honoured at the end of the year.",
                        "Choose a slot under “Volunteering” on Linli, or ask your grid worker.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="health-check-65",
        category="health",
        days_ago=5,
        expires_in_days=20,
        community="liuhe",
        zh=Text(
            title="65岁以上居民免费健康体检",
            summary="社区卫生服务中心的医生到六和社区为65岁以上居民免费体检，请提前预约时段。",
            body=(
                ("heading", "体检项目"),
                (
                    "paragraph",
                    p(
                        "血压、血糖、血脂、心电图、腹部B超和中医体质辨识。体检结果会同步给您的家庭医生，需要复诊的由家庭医生电话通知。"
                    ),
                ),
                (
                    "table",
                    Table(
                        (
                            ("日期 Day", "网格 Grids", "地点 Place"),
                            ("第一周周二 First Tuesday", "第1、2网格 Grids 1 and 2", "六和社区卫生服务站 Liuhe health station"),
                            ("第一周周四 First Thursday", "第3、4网格 Grids 3 and 4", "六和社区卫生服务站 Liuhe health station"),
                        )
                    ),
                ),
                ("heading", "注意事项"),
                (
                    "paragraph",
                    ul(
                        "体检当天早上请空腹，带好身份证和医保卡。",
                        "行动不便的老人可以申请上门体检，请联系网格员。",
                        "家属可以在邻里平台上替老人预约。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Free health check for residents aged 65 and over",
            summary=(
                "Doctors from the community health centre hold free health checks in Liuhe for residents aged 65 and over – "
                "please book a slot."
            ),
            body=(
                ("heading", "What is checked"),
                (
                    "paragraph",
                    p(
                        "Blood pressure, blood sugar, blood lipids, an ECG, an abdominal ultrasound and a traditional Chinese "
                        "medicine constitution assessment. The results go to your family doctor, who will phone you if a "
                        "follow-up is needed."
                    ),
                ),
                ("table", None),
                ("heading", "Please note"),
                (
                    "paragraph",
                    ul(
                        "Do not eat on the morning of the check, and bring your ID card and medical insurance card.",
                        "Residents who cannot easily get out can ask their grid worker for a home visit.",
                        "Family members can book a slot for an older relative on Linli.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="family-doctor",
        category="health",
        days_ago=25,
        zh=Text(
            title="家庭医生签约服务：慢病随访上门到家",
            summary="高血压、糖尿病患者签约家庭医生后，可以获得定期随访、长处方和用药提醒。",
            body=(
                ("heading", "签约后有什么服务"),
                (
                    "paragraph",
                    ul(
                        "每季度至少一次随访，测血压、血糖，调整用药建议。",
                        "病情稳定的慢病患者可以开具长处方，减少往返医院。",
                        "80岁以上独居老人可以申请居家健康监测手环。",
                    ),
                ),
                ("heading", "怎样签约"),
                ("paragraph", p("带身份证和医保卡到社区卫生服务站办理，或者请网格员预约医生上门签约。签约和随访都不收费。")),
            ),
        ),
        en=Text(
            title="Sign up with a family doctor: follow-up for chronic illness, at home",
            summary=(
                "People with high blood pressure or diabetes who sign up with a family doctor get regular follow-up, long "
                "prescriptions and reminders."
            ),
            body=(
                ("heading", "What you get"),
                (
                    "paragraph",
                    ul(
                        "At least one follow-up visit a quarter: blood pressure, blood sugar and advice on your medication.",
                        "Patients whose condition is stable can get long-term prescriptions and make fewer trips to hospital.",
                        "Residents over 80 who live alone can ask for a wristband that monitors their health at home.",
                    ),
                ),
                ("heading", "How to sign up"),
                (
                    "paragraph",
                    p(
                        "Bring your ID card and medical insurance card to the community health station, or ask your grid worker "
                        "to arrange a home visit by the doctor. Signing up and the follow-up visits are free."
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="e-bike-charging",
        category="safety",
        days_ago=2,
        pinned=True,
        zh=Text(
            title="电动自行车安全充电提醒",
            summary="严禁电动自行车进楼入户、飞线充电，请使用小区集中充电点。",
            body=(
                ("heading", "请大家做到"),
                (
                    "paragraph",
                    ul(
                        "不把电动自行车和电池带进楼道、电梯和家里。",
                        "不私拉电线、不从窗口“飞线”充电。",
                        "使用小区集中充电点，充满即拔，不要整夜充电。",
                        "电池鼓包、发热时立即停止使用，并联系网格员。",
                    ),
                ),
                ("heading", "集中充电点"),
                (
                    "paragraph",
                    p(
                        "各小区充电点的位置和空闲情况可以在邻里平台查看。六和社区新充电棚的选址正在议事会讨论，欢迎发表意见。",
                        "发现楼道停放或飞线充电，请通过居民信箱或12345反映。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="E-bike charging: stay safe",
            summary=(
                "Never take e-bikes or batteries into the building or charge them from a window – use the charging points in "
                "your compound."
            ),
            body=(
                ("heading", "Please"),
                (
                    "paragraph",
                    ul(
                        "Do not take e-bikes or their batteries into stairwells, lifts or flats.",
                        "Do not run extension cables or charge from a window.",
                        "Use the compound's charging points and unplug when the battery is full – do not charge overnight.",
                        "Stop using a battery that swells or gets hot, and tell your grid worker.",
                    ),
                ),
                ("heading", "Charging points"),
                (
                    "paragraph",
                    p(
                        "Where the charging points are, and which are free, is shown on Linli. Where to build a new charging "
                        "shelter in Liuhe is being discussed by the council – tell us what you think.",
                        "If you see e-bikes parked in a stairwell or cables from a window, report it through the resident "
                        "mailbox "
                        "or 12345.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="fire-drill",
        category="safety",
        days_ago=30,
        expires_in_days=-23,
        community="jiangnan",
        zh=Text(
            title="江南社区高层住宅消防疏散演练",
            summary="本周六上午在锦绣里3幢举行消防疏散演练，届时警报响起请不要惊慌。",
            body=(
                ("heading", "演练安排"),
                (
                    "paragraph",
                    p(
                        "本周六上午9:30，社区联合消防救援站在锦绣里3幢举行高层住宅疏散演练，全程约40分钟。"
                        "演练期间会有警报声和烟雾效果，请不要惊慌。"
                    ),
                ),
                ("heading", "欢迎参加"),
                (
                    "paragraph",
                    p(
                        "演练结束后，消防员现场讲解灭火器和室内消火栓的使用方法。参加演练并签到的居民可以获得积分。",
                        "家中有行动不便人员的，请提前告诉网格员，以便安排人员协助。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Fire evacuation drill in a Jiangnan high-rise",
            summary=(
                "An evacuation drill takes place in Block 3, Jinxiu Lane, this Saturday morning – please do not be alarmed by "
                "the alarms."
            ),
            body=(
                ("heading", "The drill"),
                (
                    "paragraph",
                    p(
                        "This Saturday at 9:30 the community and the fire station hold an evacuation drill in Block 3, Jinxiu "
                        "Lane, lasting about 40 minutes. There will be alarms and stage smoke – please do not be alarmed."
                    ),
                ),
                ("heading", "Join in"),
                (
                    "paragraph",
                    p(
                        "Afterwards firefighters show how to use extinguishers and indoor fire hydrants. Residents who take part "
                        "and check in earn points.",
                        "If someone in your home has limited mobility, please tell your grid worker beforehand so that a helper "
                        "can be arranged.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="meet-your-grid-worker",
        category="general",
        days_ago=12,
        community="jiangnan",
        zh=Text(
            title="新居民见面会：认识您的网格员和楼道长",
            summary="江南社区八成居民是新杭州人。本周日下午的见面会上，各网格的网格员和楼道长和大家见面。",
            body=(
                ("heading", "为什么办见面会"),
                (
                    "paragraph",
                    p(
                        "江南社区有4600多户、1.5万名居民，其中八成是近几年搬来的新居民，很多人和邻居互不相识。"
                        "社区划分为3个网格，每个网格200到300户，由专职网格员负责；每幢楼还有一位楼道长。"
                    ),
                ),
                ("heading", "见面会上"),
                (
                    "paragraph",
                    ul(
                        "网格员介绍本网格的服务和联系方式。",
                        "志愿者现场帮您在邻里平台登记所在网格，只登记一次，以后各项服务不用重复填写。",
                        "外籍居民可以用英文交流，有志愿者翻译。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Newcomers' meeting: meet your grid worker and building leader",
            summary=(
                "Eight in ten Jiangnan residents are new to Hangzhou. At Sunday afternoon's meeting the grid workers and "
                "building leaders introduce themselves."
            ),
            body=(
                ("heading", "Why this meeting"),
                (
                    "paragraph",
                    p(
                        "Jiangnan has more than 4,600 households and 15,000 residents; eight in ten moved here in the last few "
                        "years and many do not know their neighbours. The community is divided into three grids of 200 to 300 "
                        "households, each looked after by a full-time grid worker, and every building has a building leader."
                    ),
                ),
                ("heading", "At the meeting"),
                (
                    "paragraph",
                    ul(
                        "Grid workers explain their services and how to reach them.",
                        "Volunteers help you register your grid on Linli – once only, so you never fill it in again for other "
                        "services.",
                        "Foreign residents can talk in English, with volunteers to interpret.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="swap-market",
        category="volunteer",
        days_ago=18,
        community="liuhe",
        zh=Text(
            title="邻里闲置物品交换集市",
            summary="把家里用不上的书、玩具和小家电带来，和邻居换一换；志愿者现场免费维修小家电。",
            body=(
                (
                    "paragraph",
                    p(
                        "本月最后一个周六上午，六和社区广场举办闲置物品交换集市。书籍、玩具、衣物和能正常使用的小家电都可以带来交换，"
                        "不收钱，只以物换物。",
                        "“邻里修修队”志愿者现场免费维修小家电、磨剪刀、修雨伞。剩下的物品由社区统一捐给慈善超市。",
                    ),
                ),
                ("heading", "想当志愿者？"),
                ("paragraph", p("集市需要10名志愿者帮忙摆摊和整理物品，请在邻里平台“志愿服务”中报名，服务时长计入志愿积分。")),
            ),
        ),
        en=Text(
            title="Neighbours' swap market",
            summary=(
                "Bring the books, toys and small appliances you no longer use and swap them with your neighbours; volunteers "
                "repair small appliances for free."
            ),
            body=(
                (
                    "paragraph",
                    p(
                        "On the last Saturday morning of the month the Liuhe community square hosts a swap market. Bring books, "
                        "toys, clothes and small appliances in working order – no money, only swaps.",
                        "The “Neighbourhood Fix-it Team” repairs small appliances, sharpens scissors and mends umbrellas for "
                        "free. Whatever is left over goes to the charity shop.",
                    ),
                ),
                ("heading", "Want to volunteer?"),
                (
                    "paragraph",
                    p(
                        "The market needs ten volunteers to set up stalls and sort items. Sign up under “Volunteering” on Linli; "
                        "your hours earn volunteer points."
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="help-with-phones",
        category="general",
        days_ago=35,
        zh=Text(
            title="不会用手机？社区工作人员帮您办",
            summary="预约课程、兑换积分、给社区写信，老年居民都可以请工作人员代办，也可以把页面字体调大。",
            body=(
                ("heading", "可以代办的事"),
                (
                    "paragraph",
                    p(
                        "在社区服务站或通过网格员，工作人员可以替您预约课程和活动、办理签到、兑换积分、登记来信。"
                        "代办的结果和您自己在手机上办理完全一样，记录都在您的名下。"
                    ),
                ),
                ("heading", "字太小看不清？"),
                (
                    "paragraph",
                    p(
                        "点页面顶部的“大字模式”，整个平台的字体都会放大，下次打开时仍然有效。",
                        "每周二上午，老年活动室开设“智能手机课堂”，志愿者一对一教您用手机。",
                    ),
                ),
            ),
        ),
        en=Text(
            title="Not at home with smartphones? Community staff will do it for you",
            summary=(
                "Booking classes, exchanging points, writing to the community – older residents can ask staff to do it for them, "
                "and can make the text larger."
            ),
            body=(
                ("heading", "What staff can do for you"),
                (
                    "paragraph",
                    p(
                        "At the community service desk, or through your grid worker, staff can book classes and activities for "
                        "you, check you in, exchange your points and register your letters. It is exactly as if you had done it "
                        "yourself on your phone, and it is all recorded in your name."
                    ),
                ),
                ("heading", "Text too small?"),
                (
                    "paragraph",
                    p(
                        "Press “Large text” at the top of any page and the whole portal uses larger type, also the next time you "
                        "visit.",
                        "Every Tuesday morning the seniors' room holds a smartphone class where volunteers help you one to one.",
                    ),
                ),
            ),
        ),
    ),
    DemoNotice(
        slug="council-decision-stairwells",
        category="general",
        days_ago=20,
        community="liuhe",
        zh=Text(
            title="议事会决定：六和苑楼道堆物集中清理",
            summary="上季度议事会就六和苑楼道堆物问题作出决定，清理已完成七成，写过来信的居民都已收到通知。",
            body=(
                ("heading", "议事会决定了什么"),
                (
                    "paragraph",
                    p(
                        "上季度共有26封来信反映六和苑楼道堆放杂物、堵塞消防通道。议事会邀请楼道长、物业、居民代表和消防救援站共同协商，"
                        "表决通过三项措施："
                    )
                    + ul(
                        "统一清理日之前，由楼道长逐户提醒，居民自行处理杂物。",
                        "确需存放的物品，由社区协调闲置车棚集中存放。",
                        "楼道长每月巡查一次，结果在平台公布。",
                    ),
                ),
                ("heading", "落实情况"),
                (
                    "table",
                    Table(
                        (
                            ("楼幢 Blocks", "进度 Progress"),
                            ("1–6幢 Blocks 1–6", "已完成 Done"),
                            ("7–10幢 Blocks 7–10", "已完成 Done"),
                            ("11–14幢 Blocks 11–14", "本月完成 This month"),
                        )
                    ),
                ),
                (
                    "paragraph",
                    p("写过相关来信的居民已在“我的”页面收到议事结果。对落实情况有意见，可以继续写信，社区会跟进督办。"),
                ),
            ),
        ),
        en=Text(
            title="Council decision: clearing the stairwells of Liuhe Garden",
            summary=(
                "Last quarter the council decided how to clear the cluttered stairwells of Liuhe Garden; seven in ten are done, "
                "and everyone who wrote has been told."
            ),
            body=(
                ("heading", "What the council decided"),
                (
                    "paragraph",
                    p(
                        "Last quarter 26 letters complained that clutter in the stairwells of Liuhe Garden blocked the fire "
                        "escapes. The council brought together the building leaders, the property management, residents' "
                        "representatives and the fire station, and voted for three measures:"
                    )
                    + ul(
                        "Before a common clearing day the building leaders remind every household, and residents remove their "
                        "own things.",
                        "Belongings that really must be kept are stored together in an unused bicycle shed arranged by the "
                        "community.",
                        "The building leaders inspect once a month and the results are published here.",
                    ),
                ),
                ("heading", "Progress"),
                ("table", None),
                (
                    "paragraph",
                    p(
                        "Residents who wrote about this have received the council's result on “My page”. If you are not "
                        "satisfied with the progress, write again – the community follows it up."
                    ),
                ),
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------
# Standard pages: About, Privacy, Contact

ABOUT = DemoPage(
    slug="about",
    zh=Text(
        title="关于邻里",
        summary="邻里是运河湾街道的居民服务平台，由街道办事处和六和、江南两个社区共同运营。",
        body=(
            ("heading", "在这里可以做什么"),
            (
                "paragraph",
                ul(
                    "看街道和社区的通知公告。",
                    "在手机上查找、预约课程和活动，凭电子票签到。",
                    "参加活动、志愿服务和垃圾分类攒积分，兑换礼品和服务。",
                    "给社区写信、跟进办理结果，支持议事会议题，查看议事结果。",
                ),
            ),
            ("heading", "社区和网格"),
            (
                "paragraph",
                p(
                    "街道下辖六和、江南两个社区。每个社区划分为若干网格，每个网格200到300户，由一名网格员负责；每幢楼有楼道长。"
                    "登记您所在的社区和网格后，平台会优先显示与您有关的通知和活动。"
                ),
            ),
            ("heading", "信息只采一次"),
            (
                "paragraph",
                p(
                    "您在平台上登记过的信息，社区办理各项服务时直接使用，不会让您反复填写。我们只收集提供服务所必需的信息，详见隐私政策。"
                ),
            ),
        ),
    ),
    en=Text(
        title="About Linli",
        summary=(
            "Linli is the residents' portal of Yunhewan Street, run by the street office together with Liuhe and Jiangnan "
            "communities."
        ),
        body=(
            ("heading", "What you can do here"),
            (
                "paragraph",
                ul(
                    "Read notices from the street office and your community.",
                    "Find and book classes and activities on your phone, and check in with your e-ticket.",
                    "Earn points by taking part, volunteering and sorting your garbage, and exchange them for gifts and "
                    "services.",
                    "Write to your community and follow your letter, support council topics and read the council's results.",
                ),
            ),
            ("heading", "Communities and grids"),
            (
                "paragraph",
                p(
                    "The street has two communities, Liuhe and Jiangnan. Each is divided into grids of 200 to 300 households, "
                    "each "
                    "looked after by a grid worker, and every building has a building leader. Once you register your community "
                    "and grid, the portal shows you first the notices and activities that concern you."
                ),
            ),
            ("heading", "Collected once"),
            (
                "paragraph",
                p(
                    "What you have registered here is used directly whenever the community provides a service, so you are never "
                    "asked for it again. We collect only what a service needs; see the privacy notice."
                ),
            ),
        ),
    ),
)

# "{version}" is replaced by settings.LINLI_PRIVACY_NOTICE_VERSION, the version residents consent to.
PRIVACY = DemoPage(
    slug="privacy",
    zh=Text(
        title="隐私政策",
        summary="本政策说明邻里平台如何处理您的个人信息（版本 {version}），注册时您同意的就是这一版本。",
        body=(
            ("heading", "谁处理您的个人信息"),
            (
                "paragraph",
                p(
                    "邻里平台由杭州市拱墅区运河湾街道办事处运营，它是您个人信息的处理者。有关个人信息的问题，"
                    "请发邮件至 privacy@yunhewan.example，或到街道社区服务中心咨询。"
                ),
            ),
            ("heading", "我们收集哪些信息"),
            (
                "paragraph",
                ul(
                    "<b>必填：</b>电子邮箱和密码，用于登录和找回账号。密码只以不可逆的加密形式保存。",
                    "<b>选填：</b>昵称、手机号、所在社区和网格、楼幢单元、出生年份、语言和字号偏好，可以随时在“我的”页面修改或清空。",
                    "<b>使用服务时产生的记录：</b>课程和活动的预约与签到、积分收支、来信，以及您对议题的支持和表决。",
                )
                + p("我们不收集身份证号、精确位置、通讯录或人脸信息。"),
            ),
            ("heading", "为什么收集"),
            (
                "paragraph",
                ul(
                    "电子邮箱：登录、确认是您本人，发送您预约的活动提醒和来信答复。",
                    "社区和网格：显示本社区的通知，让网格员能联系到您，把来信转给正确的社区。",
                    "出生年份：推荐适合您年龄的课程，并按年龄段统计参与情况，统计结果不含个人身份。",
                    "手机号：仅在预约变动或来信办理需要时，由工作人员联系您。",
                )
                + p("处理的依据是您的同意，以及提供您所要求的服务所必需（《个人信息保护法》第十三条）。"),
            ),
            ("heading", "谁能看到"),
            (
                "paragraph",
                p(
                    "您所在社区的工作人员只能看到工作所需的信息，例如活动名单和您的来信，其他社区看不到。议事会成员看到的来信不显示姓名和联系方式。"
                    "街道只看汇总统计。我们不出售您的信息，也不用于营销；信息存储在中国境内的服务器上，不向境外提供。"
                ),
            ),
            ("heading", "保存多久"),
            (
                "paragraph",
                p(
                    "您的账号存在期间，我们保存您的资料。您注销账号后，资料、邮箱地址和登录信息立即删除；"
                    "预约、积分、来信和表决等记录会去除能识别您的信息，只作为社区工作的匿名记录保留。"
                ),
            ),
            ("heading", "您的权利"),
            (
                "paragraph",
                ul(
                    "<b>查阅和复制：</b>在“我的”页面点击“下载我的数据（JSON）”，即可得到我们保存的您的全部个人信息。",
                    "<b>更正和补充：</b>在“我的”页面修改资料。",
                    "<b>删除和撤回同意：</b>在“我的”页面点击“注销我的账号”，或清空选填信息。",
                    "<b>要求解释：</b>发邮件询问我们如何处理您的信息，我们在15个工作日内答复。",
                )
                + p("如果对答复不满意，您可以向网信部门投诉。"),
            ),
            ("heading", "未满十四周岁的儿童"),
            ("paragraph", p("未满十四周岁的儿童不单独注册账号，由父母或其他监护人用自己的账号为孩子预约课程和活动。")),
            ("heading", "政策变更"),
            ("paragraph", p("本政策如有实质变更，我们会更新版本号，并在您下次登录时请您重新确认。")),
        ),
    ),
    en=Text(
        title="Privacy notice",
        summary=(
            "How the Linli portal handles your personal information (version {version}) – the version you agree to when you sign "
            "up."
        ),
        body=(
            ("heading", "Who is responsible"),
            (
                "paragraph",
                p(
                    "Linli is run by the Yunhewan Street Office, Gongshu District, Hangzhou, which is responsible for your "
                    "personal information. For any question about it, write to privacy@yunhewan.example or ask at the street's "
                    "community service centre."
                ),
            ),
            ("heading", "What we collect"),
            (
                "paragraph",
                ul(
                    "<b>Required:</b> your e-mail address and password, to log in and recover your account. We keep only a "
                    "one-way hash of the password.",
                    "<b>Optional:</b> display name, mobile number, community and grid, building and unit, year of birth, "
                    "language "
                    "and text size, which you can change or clear on “My page” at any time.",
                    "<b>Records of the services you use:</b> bookings and check-ins for classes and activities, points earned "
                    "and "
                    "spent, letters, and your support for and votes on topics.",
                )
                + p("We do not collect ID card numbers, precise location, contacts or facial data."),
            ),
            ("heading", "Why"),
            (
                "paragraph",
                ul(
                    "E-mail: to log in, confirm that it is you, and send reminders of your bookings and answers to your letters.",
                    "Community and grid: to show you your community's notices, let your grid worker reach you and route your "
                    "letters to the right community.",
                    "Year of birth: to suggest classes for your age and to count participation by age group; the figures "
                    "identify no one.",
                    "Mobile number: only for staff to contact you when a booking changes or a letter needs it.",
                )
                + p(
                    "We process your information with your consent and because it is necessary for the services you ask for "
                    "(Personal Information Protection Law, Article 13)."
                ),
            ),
            ("heading", "Who can see it"),
            (
                "paragraph",
                p(
                    "Staff of your own community see only what their work needs, such as activity rosters and your letters; "
                    "other communities cannot see them. Council members see letters without names or contact details. The street "
                    "office sees only aggregate figures. We never sell your information or use it for marketing; it is stored on "
                    "servers in mainland China and not transferred abroad."
                ),
            ),
            ("heading", "How long we keep it"),
            (
                "paragraph",
                p(
                    "We keep your information while you have an account. When you delete your account, your profile, e-mail "
                    "addresses and login details are deleted at once; bookings, points, letters and votes remain only as "
                    "anonymous records of the community's work, with nothing that identifies you."
                ),
            ),
            ("heading", "Your rights"),
            (
                "paragraph",
                ul(
                    "<b>See and copy:</b> on “My page”, choose “Download my data (JSON)” to get all the personal information we "
                    "hold about you.",
                    "<b>Correct and complete:</b> edit your details on “My page”.",
                    "<b>Delete and withdraw consent:</b> on “My page”, choose “Delete my account”, or clear the optional "
                    "details.",
                    "<b>Explanation:</b> write to us to ask how your information is handled; we answer within 15 working days.",
                )
                + p("If you are not satisfied with our answer, you may complain to the cyberspace administration authorities."),
            ),
            ("heading", "Children under 14"),
            (
                "paragraph",
                p(
                    "Children under 14 do not have their own account: a parent or other guardian books classes and activities "
                    "for them from their own account."
                ),
            ),
            ("heading", "Changes"),
            (
                "paragraph",
                p(
                    "If this notice changes in substance, we give it a new version and ask you to agree again the next time you "
                    "log in."
                ),
            ),
        ),
    ),
)

CONTACT = DemoPage(
    slug="contact",
    zh=Text(
        title="联系我们",
        summary="有事找社区：热线、邮箱、服务站地址和办公时间。",
        body=(
            ("heading", "街道社区服务中心"),
            (
                "paragraph",
                ul(
                    "地址：杭州市拱墅区运河湾路88号",
                    "服务热线：0571-8819 6000",
                    "电子邮箱：linli@yunhewan.example",
                    "办公时间：工作日 8:30–17:00，周六 9:00–12:00",
                ),
            ),
            ("heading", "社区服务站"),
            (
                "table",
                Table(
                    (
                        ("社区 Community", "地址 Address", "电话 Phone"),
                        ("六和社区 Liuhe", "桂花里12幢底层 Ground floor, Block 12, Osmanthus Lane", "0571-8819 6101"),
                        ("江南社区 Jiangnan", "江南邻里中心二楼 2nd floor, Jiangnan neighbourhood centre", "0571-8819 6201"),
                    )
                ),
            ),
            ("paragraph", p("各网格网格员的联系方式，可以到所在社区服务站查询。")),
            ("heading", "紧急情况"),
            (
                "paragraph",
                p(
                    "遇到火灾、急病、治安等紧急情况，请直接拨打119、120或110。对政府部门的意见和投诉也可以拨打12345市民服务热线，"
                    "诉求会汇入居民关切数据库。"
                ),
            ),
        ),
    ),
    en=Text(
        title="Contact us",
        summary="Need the community? Hotline, e-mail, service desks and opening hours.",
        body=(
            ("heading", "Street community service centre"),
            (
                "paragraph",
                ul(
                    "Address: 88 Yunhewan Road, Gongshu District, Hangzhou",
                    "Hotline: 0571-8819 6000",
                    "E-mail: linli@yunhewan.example",
                    "Opening hours: weekdays 8:30–17:00, Saturday 9:00–12:00",
                ),
            ),
            ("heading", "Community service desks"),
            ("table", None),
            ("paragraph", p("Ask your community service desk for your grid worker's contact details.")),
            ("heading", "Emergencies"),
            (
                "paragraph",
                p(
                    "In an emergency – fire, sudden illness or a crime – call 119, 120 or 110 directly. Comments and complaints "
                    "about government services can also go to the 12345 citizens' hotline; they join the database of residents' "
                    "concerns."
                ),
            ),
        ),
    ),
)


# Who looks after each grid (community code, grid number → worker, building leaders), fictional people with numbers
# of the reserved-looking 138-0000-xxxx kind, shown on the grid's page to its residents.
@dataclass(frozen=True)
class DemoLeader:
    building: str
    building_en: str
    name: str
    phone: str


@dataclass(frozen=True)
class DemoGridContacts:
    worker: str
    worker_phone: str
    leaders: tuple[DemoLeader, ...]


GRID_WORKER_HOURS = ("工作日 8:30–17:00，社区服务中心", "Weekdays 8:30–17:00, at the community service centre")
BUILDING_LEADER_HOURS = ("每天 18:00–20:00", "Daily 18:00–20:00")

GRID_CONTACTS = {
    ("liuhe", 1): DemoGridContacts("蒋文静", "138-0000-1101", (DemoLeader("2幢", "Building 2", "邵阿姨", "138-0000-1111"), DemoLeader("6幢", "Building 6", "韩国平", "138-0000-1112"))),
    ("liuhe", 2): DemoGridContacts("施晓峰", "138-0000-1201", (DemoLeader("5幢", "Building 5", "钱美华", "138-0000-1211"), DemoLeader("12幢", "Building 12", "潘建军", "138-0000-1212"))),
    ("liuhe", 3): DemoGridContacts("俞佳", "138-0000-1301", (DemoLeader("2幢", "Building 2", "沈秀兰", "138-0000-1311"), DemoLeader("8幢", "Building 8", "褚德明", "138-0000-1312"))),
    ("liuhe", 4): DemoGridContacts("冯晨", "138-0000-1401", (DemoLeader("1幢", "Building 1", "严玉珍", "138-0000-1411"), DemoLeader("3幢", "Building 3", "金伟", "138-0000-1412"))),
    ("jiangnan", 1): DemoGridContacts("方雨桐", "138-0000-2101", (DemoLeader("1幢", "Building 1", "叶桂英", "138-0000-2111"), DemoLeader("6幢", "Building 6", "Tom Becker", "138-0000-2112"))),
    ("jiangnan", 2): DemoGridContacts("邱磊", "138-0000-2201", (DemoLeader("4幢", "Building 4", "魏红", "138-0000-2211"), DemoLeader("9幢", "Building 9", "陶志刚", "138-0000-2212"))),
    ("jiangnan", 3): DemoGridContacts("袁梦", "138-0000-2301", (DemoLeader("3幢", "Building 3", "姜淑芬", "138-0000-2311"), DemoLeader("11幢", "Building 11", "范小龙", "138-0000-2312"))),
}  # fmt: skip

SITE = DemoSite(
    home_intro=p(
        "运河湾街道六和、江南两个社区的居民服务平台：在这里看通知公告，用手机查课约课，参加活动攒积分，给社区写信并跟进办理结果。"
    ),
    home_intro_en=p(
        "The residents' portal of Liuhe and Jiangnan communities in Yunhewan Street: read notices, find and book classes on "
        "your phone, earn points by taking part, and write to your community and follow what becomes of your letter."
    ),
    notices_title="通知公告",
    notices_title_en="Notices",
    notices_intro=p("街道和各社区发布的通知公告。置顶通知排在最前，过期的通知会标明“已过期”。"),
    notices_intro_en=p(
        "Notices from the street office and the communities. Pinned notices come first; expired ones are marked as such."
    ),
    communities=COMMUNITIES,
    people=PEOPLE,
    notices=NOTICES,
    pages=(ABOUT, PRIVACY, CONTACT),
    contact=Contact(
        hotline="0571-8819 6000",
        email="linli@yunhewan.example",
        address="杭州市拱墅区运河湾路88号 运河湾街道社区服务中心",
        address_en="Yunhewan Street Community Service Centre, 88 Yunhewan Road, Gongshu District, Hangzhou",
        footer="运河湾街道办事处主办 · 工作日 8:30–17:00，周六 9:00–12:00",
        footer_en="Run by the Yunhewan Street Office · Weekdays 8:30–17:00, Saturday 9:00–12:00",
    ),
)

# ---------------------------------------------------------------------------
# Neighbour help (demo/neighbours.py): a few posts in every grid, written by its residents in their own language,
# some still open, some done and thanked.


@dataclass(frozen=True)
class DemoNeighbourPost:
    community: str
    grid: int
    author: str  # a DemoPerson login of that grid
    kind: str  # a neighbours.models.Kind value
    category: str  # a neighbours.models.Category value
    title: str
    text: str
    days_ago: int
    place: str = ""
    when: str = ""
    urgency: str = "normal"
    helper: str = ""  # who answered (a login of the same grid); empty: nobody yet
    done: bool = False  # both confirmed
    hours: str = ""
    thanks: str = ""


NEIGHBOUR_POSTS = (
    # 六和社区 · 第1网格
    DemoNeighbourPost(
        "liuhe",
        1,
        "wang.xiuying",
        "request",
        "errands",
        "帮忙从菜场提菜上楼",
        "我腿脚不太方便，周六上午从菜场买米和油回来，想请邻居帮忙提上四楼。",
        2,
        place="六和苑2幢楼下",
        when="周六上午9点左右",
    ),
    DemoNeighbourPost(
        "liuhe",
        1,
        "chen.jing",
        "lend",
        "tools",
        "出借电钻一把",
        "家里有一把电钻，装窗帘、挂画都可以用，用完请按时归还。",
        5,
        place="六和苑6幢门口",
    ),
    DemoNeighbourPost(
        "liuhe",
        1,
        "wang.xiuying",
        "request",
        "elderly",
        "陪我去社区卫生服务中心量血压",
        "每月一次去量血压，路上有个大坡，想请邻居陪我走一趟。",
        12,
        place="六和苑东门",
        when="上周三上午",
        helper="guo.li",
        done=True,
        hours="1.5",
        thanks="谢谢郭丽一路陪我聊天，下次请您吃汤圆。",
    ),
    # 六和社区 · 第2网格
    DemoNeighbourPost(
        "liuhe",
        2,
        "omar.haddad",
        "offer",
        "tutoring",
        "English conversation practice for kids",
        "I can help primary-school children practise spoken English, one hour on Sunday afternoons in the grid's reading corner.",
        3,
        place="Osmanthus Lane reading corner",
        when="Sundays 15:00–16:00",
    ),
    DemoNeighbourPost(
        "liuhe",
        2,
        "li.jianguo",
        "request",
        "repairs",
        "水龙头一直滴水",
        "厨房水龙头关不紧，一直滴水，哪位邻居会换阀芯？材料我自己买。",
        1,
        place="桂花里5幢",
        urgency="urgent",
    ),
    DemoNeighbourPost(
        "liuhe",
        2,
        "li.jianguo",
        "request",
        "errands",
        "帮忙取快递",
        "这几天腰不好，驿站有两个快递，想请邻居帮忙取一下送到楼下。",
        9,
        place="桂花里菜鸟驿站",
        helper="yang.yang",
        done=True,
        hours="0.5",
        thanks="小杨真是热心肠，谢谢！",
    ),
    # 六和社区 · 第3网格
    DemoNeighbourPost(
        "liuhe",
        3,
        "zhang.guifang",
        "give",
        "items",
        "赠送婴儿推车",
        "孙子长大了，推车八成新，能折叠，送给有需要的邻居。",
        4,
        place="运河人家8幢楼下",
    ),
    DemoNeighbourPost(
        "liuhe",
        3,
        "zhao.min",
        "offer",
        "errands",
        "下班路上可以帮忙带菜",
        "我每天傍晚6点下班经过农贸市场，需要带点菜的邻居可以找我。",
        11,
        place="运河人家北门",
        when="工作日傍晚",
        helper="zhang.guifang",
        done=True,
        hours="0.5",
        thanks="谢谢小赵，菜很新鲜。",
    ),
    # 六和社区 · 第4网格
    DemoNeighbourPost(
        "liuhe",
        4,
        "liu.wei",
        "sale",
        "items",
        "义卖：手工编织围巾",
        "家里老人织的羊毛围巾三条，义卖所得全部捐给社区“爱心食堂”。",
        6,
        place="枫华府活动室",
    ),
    DemoNeighbourPost(
        "liuhe",
        4,
        "huang.zihan",
        "request",
        "tutoring",
        "想找人讲讲高数",
        "大一高数期末复习，有几道题想请懂的邻居讲一讲，线上线下都可以。",
        7,
        place="枫华府活动室",
        when="周末下午",
        helper="liu.wei",
        done=True,
        hours="2",
        thanks="刘叔叔讲得很清楚，考试过了！",
    ),
    # 江南社区 · 第1网格
    DemoNeighbourPost(
        "jiangnan",
        1,
        "priya.sharma",
        "request",
        "childcare",
        "Someone to watch my son for an hour",
        "I have a class on Thursday evening; my son (6) needs someone to keep an eye on him for one hour in the "
        "community's children's room.",
        2,
        place="Jiangnan Spring children's room",
        when="Thursday 18:30–19:30",
    ),
    DemoNeighbourPost(
        "jiangnan",
        1,
        "hu.ming",
        "lend",
        "tools",
        "出借人字梯",
        "1.8米人字梯，换灯泡、清洁高处都方便。",
        3,
        place="江南春晓3幢",
    ),
    DemoNeighbourPost(
        "jiangnan",
        1,
        "zhou.zhiqiang",
        "request",
        "repairs",
        "帮忙装一下吸顶灯",
        "新买的吸顶灯不会装，请会电工的邻居帮帮忙。",
        10,
        place="江南春晓1幢",
        helper="sun.yue",
        done=True,
        hours="1",
        thanks="孙悦动手能力真强，灯很亮！",
    ),
    # 江南社区 · 第2网格
    DemoNeighbourPost(
        "jiangnan",
        2,
        "anna.mueller",
        "offer",
        "tutoring",
        "German and piano for beginners",
        "I teach beginners German or piano, free for neighbours, Saturday mornings at the Green Maple Court clubhouse.",
        5,
        place="Green Maple Court clubhouse",
        when="Saturdays 10:00",
    ),
    DemoNeighbourPost(
        "jiangnan",
        2,
        "wu.lijuan",
        "donation",
        "items",
        "为社区老人募集冬衣",
        "社区要给独居老人送冬衣，干净的棉衣、毛衣都可以，请送到青枫苑物业。",
        12,
        place="青枫苑物业服务中心",
        helper="ma.xiaodong",
        done=True,
        thanks="谢谢马晓东捐的两件棉衣！",
    ),
    # 江南社区 · 第3网格
    DemoNeighbourPost(
        "jiangnan",
        3,
        "zhu.tingting",
        "request",
        "errands",
        "帮忙代收生鲜外卖",
        "明天中午不在家，有一份生鲜外卖，想请邻居先帮忙收一下放冰箱。",
        1,
        place="锦绣里11幢",
        when="明天中午",
    ),
    DemoNeighbourPost(
        "jiangnan",
        3,
        "david.kim",
        "request",
        "elderly",
        "Company for my father's walk",
        "My father is visiting and speaks only Korean and a little Chinese; he would enjoy a short walk by the "
        "canal with a neighbour.",
        8,
        place="Jinxiu Lane gate",
        when="Any morning this week",
        helper="xu.haoran",
        done=True,
        hours="1",
        thanks="Thank you, Haoran, my father loved the walk.",
    ),
)
