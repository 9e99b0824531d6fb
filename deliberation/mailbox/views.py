"""Residents' pages of the mailbox: write a letter, follow it, browse and support public topics.

A letter's pages live under /me/ (never cached) and answer 404 to anyone but its writer and
its community's staff, so that nobody learns even that a tracking number exists.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from deliberation.mailbox import services
from deliberation.mailbox.forms import LetterForm, SatisfactionForm, TopicFilterForm
from deliberation.mailbox.models import Letter, LetterPhoto, MailboxSettings, Support, Topic
from deliberation.mailbox.sections import TOPIC_SECTIONS
from home import i18n
from home.sections import rendered_sections
from home.services import is_verified_resident
from plumbing.network import client_address


@never_cache
def write_letter(request: HttpRequest) -> HttpResponse:
    """The letter form; "check" shows similar public topics first, "send" stores the letter."""
    anonymous = not request.user.is_authenticated
    if anonymous and not MailboxSettings.load().allow_anonymous:
        return redirect(f"{_login_url()}?next={request.path}")
    verified = anonymous or is_verified_resident(request.user)
    profile = getattr(request.user, "profile", None) if not anonymous else None
    initial = {"community": profile.community_id, "grid": profile.grid_id} if profile else {}
    suggestions: list = []
    photos_not_kept = 0
    if request.method == "POST":
        form = LetterForm(request.POST, request.FILES, anonymous=anonymous)
        # A page shown again cannot hold on to the chosen files: say so rather than drop them silently.
        photos_not_kept = sum(1 for name in ("photo1", "photo2", "photo3") if request.FILES.get(name))
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("action") == "check":
                suggestions = services.similar_public_topics(
                    text=f"{data['subject']} {data['body']}", community=data["community"]
                )
                if not suggestions:
                    messages.info(request, _("No similar public topic was found: please send your letter."))
            else:
                try:
                    letter = services.submit_letter(
                        channel=Letter.Channel.WEB,
                        writer=request.user,
                        subject=data["subject"],
                        body=data["body"],
                        category=data["category"],
                        community=data["community"],
                        grid=data["grid"],
                        place=data["place"],
                        privacy=data["privacy"],
                        contact_name=data.get("contact_name", ""),
                        contact=data.get("contact", ""),
                        language=translation.get_language(),
                        photos=form.photo_uploads(),  # read and decoded only once the rate limits pass
                        address=client_address(request),
                    )
                except services.RateLimited as error:
                    form.add_error(None, str(error))
                    context = {"form": form, "verified": verified, "photos_not_kept": photos_not_kept}
                    return render(request, "mailbox/write_letter.html", context, status=429)
                except (services.MailboxError, PermissionDenied) as error:
                    form.add_error(None, str(error))
                else:
                    context = {"letter": letter, "answer_within_days": MailboxSettings.load().answer_within_days}
                    return render(request, "mailbox/letter_sent.html", context)
    else:
        form = LetterForm(initial=initial, anonymous=anonymous)
    context = {"form": form, "verified": verified, "suggestions": suggestions, "photos_not_kept": photos_not_kept}
    return render(request, "mailbox/write_letter.html", context)


def _login_url() -> str:
    from django.urls import reverse

    return reverse("account_login")


@never_cache
@login_required
@require_safe
def my_letters(request: HttpRequest) -> HttpResponse:
    letters = Letter.objects.filter(writer=request.user).select_related("topic").order_by("-received_at", "-pk")
    return render(request, "mailbox/my_letters.html", {"letters": letters})


def _readable_letter(request: HttpRequest, tracking_number: str) -> Letter:
    letter = get_object_or_404(Letter.objects.select_related("topic", "community", "grid"), tracking_number=tracking_number)
    if not services.can_read_letter(request.user, letter):
        raise Http404
    return letter


@never_cache
@login_required
@require_safe
def letter_detail(request: HttpRequest, tracking_number: str) -> HttpResponse:
    letter = _readable_letter(request, tracking_number)
    is_writer = letter.writer_id == request.user.pk
    context = {
        "letter": letter,
        "events": letter.events.select_related("topic"),
        "photos": letter.photos.only("pk", "width", "height"),
        "community_name": i18n.label(letter.community),
        "ask_satisfaction": is_writer and letter.awaits_satisfaction,
        "satisfaction_form": SatisfactionForm(),
    }
    return render(request, "mailbox/letter_detail.html", context)


@never_cache
@require_safe
def track_letter(request: HttpRequest, tracking_number: str, key: str) -> HttpResponse:
    """A letter followed by its secret link: for writers without an account (e-mail, anonymous letters)."""
    letter = services.letter_by_access_key(tracking_number=tracking_number, key=key)
    if letter is None:
        raise Http404
    context = {
        "letter": letter,
        "events": letter.events.select_related("topic"),
        "photos": [],
        "community_name": i18n.label(letter.community),
        "ask_satisfaction": False,
        "tracked": True,
    }
    response = render(request, "mailbox/letter_detail.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@login_required
@require_POST
def letter_satisfaction(request: HttpRequest, tracking_number: str) -> HttpResponse:
    letter = _readable_letter(request, tracking_number)
    form = SatisfactionForm(request.POST)
    if form.is_valid():
        try:
            services.record_satisfaction(letter=letter, writer=request.user, satisfied=form.cleaned_data["satisfied"])
        except (services.MailboxError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Thank you for your answer."))
    else:
        messages.error(request, _("Please choose an answer."))
    return redirect("mailbox:letter_detail", tracking_number=letter.tracking_number)


@never_cache
@login_required
@require_safe
def letter_photo(request: HttpRequest, tracking_number: str, pk: int) -> HttpResponse:
    letter = _readable_letter(request, tracking_number)
    photo = get_object_or_404(LetterPhoto, pk=pk, letter=letter)
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response


TOPICS_PER_PAGE = 20


@require_safe
def topic_list(request: HttpRequest) -> HttpResponse:
    """Public topics with filters; anonymous visitors get it from the page cache."""
    form = TopicFilterForm(request.GET or None)
    topics = services.public_topics(**form.cleaned_data) if form.is_valid() else services.public_topics()
    page = Paginator(topics, TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    supported = set()
    if request.user.is_authenticated:
        supported = set(
            Support.objects.filter(resident=request.user, topic__in=[t.pk for t in page]).values_list("topic_id", flat=True)
        )
    for topic in page:
        topic.community_name = i18n.label(topic.community)
        topic.supported = topic.pk in supported
    return render(request, "mailbox/topic_list.html", {"form": form, "page_obj": page})


@require_safe
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_object_or_404(services.public_topics(), pk=pk)
    residents, households = services.raised_by(topic)
    supported = request.user.is_authenticated and Support.objects.filter(topic=topic, resident=request.user).exists()
    context = {
        "topic": topic,
        "community_name": i18n.label(topic.community),
        "residents": residents,
        "households": households,
        "threshold": services.support_threshold(topic.community),
        "supported": supported,
        "wrote_about": services.wrote_about(topic=topic, resident=request.user),
        # Where the council took the topic (its sessions and decisions): the council's apps add it.
        "topic_sections": rendered_sections(TOPIC_SECTIONS, request, topic),
    }
    return render(request, "mailbox/topic_detail.html", context)


@never_cache
@login_required
@require_POST
def support_topic(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=pk, summary_approved_at__isnull=False)
    try:
        if request.POST.get("withdraw"):
            services.withdraw_support(topic=topic, resident=request.user)
            messages.success(request, _("Your support has been withdrawn."))
        else:
            services.support_topic(topic=topic, resident=request.user)
            messages.success(request, _("Thank you: your support has been counted."))
    except (services.MailboxError, PermissionDenied) as error:
        messages.error(request, str(error))
    return redirect("mailbox:topic_detail", pk=topic.pk)
