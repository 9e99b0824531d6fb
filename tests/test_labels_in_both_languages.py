"""Communities, grids, earning rules and rewards are one row each with their labels in both languages: English
pages show the English label, and the Chinese one where nobody wrote an English one yet, marked visibly
"(no English yet)" so that residents know and staff notice (home.i18n.label with mark_missing)."""

import pytest

from home.factories import CommunityFactory, GridFactory
from points import services
from points.factories import EarningRuleFactory, RewardFactory, resident

pytestmark = pytest.mark.usefixtures("site_pages")


@pytest.fixture
def street(client):
    liuhe = CommunityFactory(name="六和社区", name_en="Liuhe Community", code="liuhe")
    CommunityFactory(name="江南社区", code="jiangnan")  # no English name
    GridFactory(community=liuhe, number=1, name="第1网格", name_en="Grid 1")
    GridFactory(community=liuhe, number=2, name="第2网格")
    sorting = EarningRuleFactory(name="垃圾分类", name_en="Garbage sorting")
    checkin = EarningRuleFactory(name="健康打卡")
    RewardFactory(name="环保袋", name_en="Tote bag", description="帆布袋", description_en="A canvas bag", cost=5)
    RewardFactory(name="五号电池", description="一对", cost=5)
    user = resident(community=liuhe)
    services.award(resident=user, rule_code=sorting.code, source_key="t:1", amount=10)
    services.award(resident=user, rule_code=checkin.code, source_key="t:2", amount=10)
    client.force_login(user)
    return user


def test_english_pages_show_english_labels_and_mark_the_chinese_where_there_is_none(client, street):
    statement = client.get("/en/me/points/statement/").content.decode()
    assert "Garbage sorting" in statement and "垃圾分类" not in statement
    assert "健康打卡 (no English yet)" in statement

    for url in ("/en/me/points/", "/en/me/points/rewards/"):
        rewards = client.get(url).content.decode()
        assert "Tote bag" in rewards and "A canvas bag" in rewards and "环保袋" not in rewards
        assert "五号电池 (no English yet)" in rewards and "一对 (no English yet)" in rewards
        assert "Tote bag (no English yet)" not in rewards

    profile = client.get("/en/me/").content.decode()
    assert "Liuhe Community" in profile and "六和社区" not in profile
    assert "江南社区 (no English yet)" in profile
    assert "Grid 1" in profile and "第2网格 (no English yet)" in profile and "第1网格" not in profile

    honours = client.get("/en/points/honours/?community=jiangnan").content.decode()
    assert "Liuhe Community" in honours and "江南社区 (no English yet)" in honours


def test_the_letter_form_marks_places_without_an_english_name(client, street):
    form = client.get("/en/mailbox/write/").content.decode()
    assert "Liuhe Community" in form and "江南社区 (no English yet)" in form and "Grid 1" in form
    assert "第2网格 (no English yet)" in form
    chinese = client.get("/zh-hans/mailbox/write/").content.decode()
    assert "江南社区" in chinese and "第2网格" in chinese and "暂无英文" not in chinese


def test_chinese_pages_show_the_chinese_labels_unmarked(client, street):
    statement = client.get("/zh-hans/me/points/statement/").content.decode()
    assert "垃圾分类" in statement and "健康打卡" in statement and "Garbage sorting" not in statement
    overview = client.get("/zh-hans/me/points/").content.decode()
    assert "环保袋" in overview and "五号电池" in overview and "Tote bag" not in overview
    profile = client.get("/zh-hans/me/").content.decode()
    assert "六和社区" in profile and "第1网格" in profile and "Liuhe Community" not in profile
    for html in (statement, overview, profile, client.get("/zh-hans/me/points/rewards/").content.decode()):
        assert "暂无英文" not in html and "no English yet" not in html
