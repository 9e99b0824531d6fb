"""What neighbour help holds about a resident: posts, responses, thanks, reports, skills (export, erasure)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import HelperProfile, Post, PostingSuspension, Report, Response, Thanks


def _time(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def export(user) -> dict[str, Any]:
    helper = HelperProfile.objects.filter(user=user).first()
    return {
        "neighbour_posts": [
            {
                "kind": post.kind,
                "category": post.category,
                "title": post.title,
                "text": post.text,
                "when": post.when_display,
                "place": post.place,
                "status": post.status,
                "posted_at": _time(post.created_at),
                "photos": post.photos.count(),
            }
            for post in Post.objects.filter(author=user).order_by("created_at", "pk")
        ],
        "neighbour_responses": [
            {
                "post": response.post.title,
                "message": response.message,
                "status": response.status,
                "hours": str(response.hours) if response.hours is not None else None,
                "amount": str(response.amount) if response.amount is not None else None,
                "points": response.points_awarded,
                "at": _time(response.created_at),
            }
            for response in Response.objects.filter(responder=user).select_related("post").order_by("created_at", "pk")
        ],
        "neighbour_thanks_given": [
            {"text": thanks.text, "at": _time(thanks.created_at)}
            for thanks in Thanks.objects.filter(
                Q(response__post__author=user, response__post__kind__in=["request", "donation"])
                | Q(response__responder=user, response__post__kind__in=["offer", "lend", "give", "sale"])
            ).order_by("created_at", "pk")
        ],
        "neighbour_reports_filed": [
            {"reason": item.reason, "text": item.text, "at": _time(item.created_at)}
            for item in Report.objects.filter(reported_by=user).order_by("created_at", "pk")
        ],
        "neighbour_posting_suspensions": [
            {"until": _time(item.until), "reason": item.reason}
            for item in PostingSuspension.objects.filter(resident=user).order_by("created_at", "pk")
        ],
        "neighbour_skills": {
            "categories": helper.categories,
            "availability": helper.availability,
            "note": helper.note,
            "weekly_digest": helper.weekly_digest,
        }
        if helper
        else None,
    }


def erase(user) -> None:
    """Delete what the resident wrote; keep the counts others need (a done help, its points) without text.

    Their posts' texts, places and photos go, open ones are closed; their responses' messages go and open ones are
    withdrawn; thanks they wrote are deleted; reports they filed forget who filed them."""
    from . import services

    for response in Response.objects.filter(responder=user, status__in=[Response.Status.OFFERED, Response.Status.ACCEPTED]):
        services.withdraw(response=response, actor=user)
    now = timezone.now()
    posts = Post.objects.filter(author=user)
    for post in posts.filter(status__in=[Post.Status.OPEN, Post.Status.MATCHED]):
        post.responses.filter(status__in=[Response.Status.OFFERED, Response.Status.ACCEPTED]).update(
            status=Response.Status.DECLINED
        )
    posts.filter(status__in=[Post.Status.OPEN, Post.Status.MATCHED]).update(
        status=Post.Status.CLOSED, closed_at=now, accepted_count=0
    )
    posts.update(title="—", text="—", place="", when_text="", hidden_reason="")
    for post in posts:
        post.photos.all().delete()
    Response.objects.filter(responder=user).update(message="", amount_note="")
    Thanks.objects.filter(
        Q(response__post__author=user, response__post__kind__in=["request", "donation"])
        | Q(response__responder=user, response__post__kind__in=["offer", "lend", "give", "sale"])
    ).delete()
    Report.objects.filter(reported_by=user).update(reported_by=None, text="")
    HelperProfile.objects.filter(user=user).delete()
