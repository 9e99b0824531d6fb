"""Fixtures for the neighbour-help tests: a community with two grids, its staff, neighbours of one grid."""

import pytest
from django.utils import timezone, translation

from home.factories import GridFactory
from neighbours.factories import community_with_staff, neighbour, staff_member


@pytest.fixture(autouse=True)
def _english():
    """Services speak the active language; these tests read their messages in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def community(db):
    return community_with_staff(name="六和社区", name_en="Liuhe", code="liuhe")


@pytest.fixture
def grid(community):
    return GridFactory(community=community, number=1, name="第一网格", name_en="Grid 1")


@pytest.fixture
def other_grid(community):
    return GridFactory(community=community, number=2, name="第二网格", name_en="Grid 2")


@pytest.fixture
def poster(grid):
    return neighbour(grid, display_name="王阿姨", mobile="13812345678", mobile_verified=True)


@pytest.fixture
def helper(grid):
    return neighbour(grid, display_name="小李", mobile="13987654321", mobile_verified=True)


@pytest.fixture
def third(grid):
    return neighbour(grid, display_name="老张")


@pytest.fixture
def outsider(other_grid):
    return neighbour(other_grid, display_name="外网格居民")


@pytest.fixture
def staff(community):
    return staff_member(community, username="liuhe-staff")


@pytest.fixture
def other_staff(db):
    return staff_member(community_with_staff(name="江南社区", code="jiangnan"), username="jiangnan-staff")


@pytest.fixture
def minor(grid):
    return neighbour(grid, birth_year=timezone.localdate().year - 15)
