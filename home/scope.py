"""Who is staff where: the one answer every app asks ("which communities may this person manage?").

It reads only `home.models`, so plumbing (the outbox) and every domain app may use it without importing
`home.services`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Community


def staff_communities(user) -> QuerySet[Community]:
    """The communities (in every language) whose editors or heads group `user` belongs to: every one for
    a superuser (the street office), none for anonymous or inactive users. Each app narrows it as it needs."""
    if not user.is_authenticated or not user.is_active:
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.all()
    return Community.objects.filter(Q(editors__user=user) | Q(heads__user=user)).distinct()
