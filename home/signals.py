"""Publishing anything, or a change the apps record as public, empties the anonymous page cache (a new generation).

The generation is bumped at once, so the change shows on the next request, and again
when the transaction commits: a page rendered by another request from data read before
the commit is then stored under the old generation and never served.
"""

import functools

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished, post_page_move, published, unpublished

from plumbing.audit import recorded
from plumbing.middleware import bump_page_cache_generation


def invalidate_page_cache() -> None:
    bump_page_cache_generation()
    transaction.on_commit(bump_page_cache_generation)


@receiver(page_published)
@receiver(page_unpublished)
@receiver(post_page_move)
@receiver(published)
@receiver(unpublished)
def page_changed(sender, **kwargs) -> None:
    invalidate_page_cache()


@functools.cache
def _shown_on_public_pages() -> tuple[type, ...]:
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import Locale, PageViewRestriction, Site

    from .models import Community, Grid, PortalSettings

    # A page's privacy too: a page made private leaves the cache, and the kept view restrictions
    # (events.services.view_restrictions) are read again.
    return (Community, Grid, PortalSettings, Site, Locale, PageViewRestriction, get_image_model(), get_document_model())


@receiver(post_save)
@receiver(post_delete)
def content_changed(sender, **kwargs) -> None:
    # Snippets, settings, sites, images and documents shown on public pages, and page
    # deletions (a deleted page leaves no publish signal): any of them may change what a
    # cached page shows. Saving a draft page changes nothing public.
    from wagtail.models import Page

    if issubclass(sender, _shown_on_public_pages()) or (issubclass(sender, Page) and kwargs.get("signal") is post_delete):
        invalidate_page_cache()


@receiver(recorded)
def public_state_changed(sender, action: str, **kwargs) -> None:
    """A change the apps' public pages show (an app's `AuditActions(public=...)`: a council session announced, a
    result stored, a topic approved…): a new generation once it commits."""
    if action in sender.public:
        transaction.on_commit(bump_page_cache_generation)


@receiver(m2m_changed)
def restriction_groups_changed(sender, instance, action: str, **kwargs) -> None:
    """The groups of a page's view restriction (Wagtail's privacy form saves them after the restriction)."""
    from wagtail.models import PageViewRestriction

    if isinstance(instance, PageViewRestriction) and action.startswith("post_"):
        invalidate_page_cache()
