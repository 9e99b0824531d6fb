"""The Wagtail admin's sidebar (its menu, search and account menu), made once a minute per person and language in
each process instead of on every admin page.

Wagtail builds it on every page: each menu item asks whether it is shown (a permission or staff-scope check each),
then the whole menu is packed for the browser. That was about 23 ms of every admin page on this machine, a fifth
of a staff member's admin request. The menu is navigation only: every admin view checks the person's permission
itself, as the portal header's admin link does (`plumbing.middleware.links_to_admin`). So a copy may outlive a
withdrawn permission by at most SIDEBAR_SECONDS (the page behind the link then refuses); a change of the person's
groups, name, superuser flag or language makes a new one at once. (Publishing does not: the menu shows no content.)
"""

from __future__ import annotations

from django.utils.translation import get_language
from wagtail.admin.templatetags import wagtailadmin_tags

from plumbing.middleware import LocalCopies

SIDEBAR_SECONDS = 60
KEPT = "sidebar"  # the copies' generation: they end with their time (or the tests' LocalCopies.forget_all)

_sidebars = LocalCopies(2000)
_made_by_wagtail = wagtailadmin_tags.sidebar_props


def sidebar_props(context):
    user = context["request"].user
    if not user.is_authenticated:
        return _made_by_wagtail(context)
    groups = tuple(user.groups.order_by("pk").values_list("pk", flat=True))
    key = (user.pk, user.is_superuser, groups, user.first_name, user.get_username(), get_language())
    made = _sidebars.get(key, KEPT)
    if made is None:
        made = _made_by_wagtail(context)
        _sidebars.put(key, KEPT, made, SIDEBAR_SECONDS)
    return made


def install() -> None:
    """Put the kept sidebar in place of Wagtail's tag of the same name (before any admin template is compiled)."""
    wagtailadmin_tags.register.simple_tag(takes_context=True, name="sidebar_props")(sidebar_props)
