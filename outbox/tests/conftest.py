"""The outbox tests' community (六和社区), made once for the tests that share it."""

import pytest

from conftest import on_the_site_with
from home.services import create_community

LIUHE = on_the_site_with("_outbox_liuhe")


@pytest.fixture(scope="session")
def _outbox_liuhe(shared_site, django_db_blocker):
    """六和社区 (its pages, groups and workflow: some 300 queries), in a layer inside the shared site's
    (conftest.py); each test's `community` then reads it."""
    if LIUHE.open(django_db_blocker):
        create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    yield
    LIUHE.close()


@pytest.fixture
def community(_outbox_liuhe, site_pages):
    return create_community(name="六和社区", code="liuhe", name_en="Liuhe")  # the shared one, when it is there
