"""Publishing anything empties the anonymous page cache (a new generation)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished

from .middleware import bump_page_cache_generation


@receiver(page_published)
@receiver(page_unpublished)
def page_changed(sender, **kwargs) -> None:
    bump_page_cache_generation()


@receiver(post_save)
@receiver(post_delete)
def content_changed(sender, **kwargs) -> None:
    # Snippets and settings shown on public pages (communities, grids, footer) and
    # page moves or deletions: any of them may change what a cached page shows.
    from wagtail.models import Page

    from .models import Community, Grid, PortalSettings

    if issubclass(sender, (Community, Grid, PortalSettings)) or (
        issubclass(sender, Page) and kwargs.get("signal") is post_delete
    ):
        bump_page_cache_generation()
