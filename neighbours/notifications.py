"""What neighbour help tells people, in each recipient's language, queued in the outbox with the change.

No message carries a contact: the post's page shows it to the two sides once they are matched.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from home.i18n import label, language_of
from home.models import display_name
from outbox.services import Content, notify
from plumbing.links import absolute_url

from .models import Post, PostingSuspension, Response, Thanks


def _link(post: Post, user) -> str:
    with override(language_of(user)):
        return absolute_url(reverse("neighbours:post", args=[post.pk]))


def _send(user, *, kind: str, key: str, subject, lines, params: dict) -> None:
    if user is None or not user.is_active:
        return

    def render() -> Content:
        return Content(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject()}",
            body="\n\n".join(lines()),
            params=params,
        )

    notify(kind=f"neighbours.{kind}", recipient=user, render=render, idempotency_key=f"neighbours.{kind}:{key}")


def response_received(response: Response) -> None:
    post = response.post
    _send(
        post.author,
        kind="response",
        key=f"{response.pk}:{response.created_at.timestamp()}",
        subject=lambda: _("A neighbour answered “%(post)s”") % {"post": post.title},
        lines=lambda: [
            _("%(name)s answered your post “%(post)s”.") % {"name": display_name(response.responder), "post": post.title},
            _("Accept the offer on the post's page; only then do you see each other's contact: %(url)s")
            % {"url": _link(post, post.author)},
        ],
        params={"post": post.title[:20]},
    )


def item_claimed(response: Response) -> None:
    post = response.post
    _send(
        post.author,
        kind="response",
        key=f"{response.pk}:{response.accepted_at.timestamp()}",
        subject=lambda: _("“%(post)s” was claimed") % {"post": post.title},
        lines=lambda: [
            _("%(name)s claimed “%(post)s”. You can now see each other's contact on the post's page: %(url)s")
            % {"name": display_name(response.responder), "post": post.title, "url": _link(post, post.author)},
        ],
        params={"post": post.title[:20]},
    )


def accepted(response: Response) -> None:
    post = response.post
    _send(
        response.responder,
        kind="accepted",
        key=f"{response.pk}:{response.accepted_at.timestamp()}",
        subject=lambda: _("Your offer on “%(post)s” was accepted") % {"post": post.title},
        lines=lambda: [
            _("%(name)s accepted your offer on “%(post)s”.") % {"name": display_name(post.author), "post": post.title},
            _("Their contact is on the post's page: %(url)s") % {"url": _link(post, response.responder)},
        ],
        params={"post": post.title[:20]},
    )


def confirm_asked(response: Response, *, by_poster: bool) -> None:
    post = response.post
    other = response.responder if by_poster else post.author
    _send(
        other,
        kind="confirm",
        key=f"{response.pk}:{'poster' if by_poster else 'responder'}",
        subject=lambda: _("Please confirm: “%(post)s”") % {"post": post.title},
        lines=lambda: [
            _("Your neighbour marked “%(post)s” done. Please confirm it too: %(url)s")
            % {"post": post.title, "url": _link(post, other)},
        ],
        params={"post": post.title[:20]},
    )


def done(response: Response) -> None:
    post = response.post
    for user in (post.author, response.responder):
        _send(
            user,
            kind="done",
            key=f"{response.pk}:{user.pk}",
            subject=lambda: _("Done: “%(post)s”") % {"post": post.title},
            lines=lambda user=user: [
                _("Both of you confirmed “%(post)s”. Thank you, neighbour.") % {"post": post.title},
                *(
                    [_("%(points)s points and the hours are on My points.") % {"points": response.points_awarded}]
                    if response.points_awarded and user.pk == response.giver().pk
                    else []
                ),
                _link(post, user),
            ],
            params={"post": post.title[:20]},
        )


def thanked(thanks: Thanks) -> None:
    response = thanks.response
    post = response.post
    giver = response.giver()
    _send(
        giver,
        kind="thanked",
        key=str(thanks.pk),
        subject=lambda: _("A neighbour thanked you"),
        lines=lambda: [
            _("For “%(post)s”: %(text)s") % {"post": post.title, "text": thanks.text},
            _link(post, giver),
        ],
        params={"post": post.title[:20]},
    )


def _moderation(user, *, key: str, note: str) -> None:
    _send(
        user,
        kind="moderation",
        key=key,
        subject=lambda: _("A note from community staff about neighbour help"),
        lines=lambda: [note, _("Please keep neighbour help friendly and safe.")],
        params={"note": note[:40]},
    )


def post_hidden(post: Post) -> None:
    _moderation(post.author, key=f"hidden:{post.pk}", note=_("Your post was hidden: %(reason)s") % {"reason": post.hidden_reason})


def warned(resident, *, reason: str, key: str) -> None:
    _moderation(resident, key=f"warned:{key}", note=reason)


def suspended(suspension: PostingSuspension) -> None:
    _moderation(
        suspension.resident,
        key=f"suspended:{suspension.pk}",
        note=_("You cannot post or respond until %(day)s: %(reason)s")
        % {"day": f"{suspension.until:%Y-%m-%d}", "reason": suspension.reason},
    )


def digest(user, posts: list[Post], *, key: str) -> None:
    def lines():
        url = absolute_url(reverse("neighbours:skills"))
        return [
            _("Neighbours in your grid asked for help with what you can do:"),
            "\n".join(f"- {post.title} ({post.get_category_display()})" for post in posts),
            _("See them and offer help: %(url)s") % {"url": url},
            _("Change or stop this digest on the same page."),
        ]

    _send(
        user,
        kind="digest",
        key=key,
        subject=lambda: _("Requests you could help with"),
        lines=lines,
        params={"count": len(posts)},
    )


def unanswered(post: Post, worker) -> None:
    _send(
        worker,
        kind="unanswered",
        key=f"{post.pk}:{worker.pk}",
        subject=lambda: _("No answer for 48 hours: “%(post)s”") % {"post": post.title},
        lines=lambda: [
            _("A request in %(grid)s has had no answer for 48 hours: “%(post)s”.")
            % {"grid": label(post.grid), "post": post.title},
            _("Perhaps you know a neighbour who can help: %(url)s")
            % {"url": absolute_url(reverse("neighbours_admin:post", args=[post.pk]))},
        ],
        params={"grid": label(post.grid)[:20], "post": post.title[:20]},
    )
