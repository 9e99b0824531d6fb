"""The council's follow-up for members and residents: draft minutes to confirm, decisions with their
notice period and objections, and the public progress page of decisions being carried out."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, Prefetch, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from deliberation.council import services as voting
from deliberation.council.models import CouncilSession
from deliberation.followup import services as followup
from deliberation.followup.forms import MinutesForm, ObjectionForm
from deliberation.followup.models import ActionUpdate, Decision, FollowUpAction, Objection, minutes_results

DECISIONS_PER_PAGE = 20


def _member_session(request: HttpRequest, pk: int) -> CouncilSession:
    """A session whose minutes the user may read: its council's current members and the keepers (404 otherwise)."""
    session = get_object_or_404(CouncilSession.objects.select_related("council__community"), pk=pk)
    user = request.user
    if voting.member_of(council=session.council, user=user) is None and not followup.can_keep_minutes(user, session):
        if followup.present_seat(user, session) is None:
            raise Http404
    return session


def _draft_in_language(session: CouncilSession):
    zh_page, en_page = followup.minutes_pages(session)
    page = en_page if (translation.get_language() or "").startswith("en") and en_page else zh_page
    return (page.get_latest_revision_as_object() if page else None), zh_page, en_page


@never_cache
@login_required
@require_safe
def member_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    session = _member_session(request, pk)
    draft, zh_page, en_page = _draft_in_language(session)
    seat = followup.present_seat(request.user, session)
    keeper = followup.can_keep_minutes(request.user, session)
    editable = draft is not None and session.status == CouncilSession.Status.CLOSED
    form = None
    if keeper and editable:
        form = MinutesForm(
            initial={
                "body": followup.markdown_of(zh_page),
                "closing": followup.markdown_of(zh_page, "closing"),
                "body_en": followup.markdown_of(en_page),
                "closing_en": followup.markdown_of(en_page, "closing"),
            }
        )
    editor = []
    if form is not None:
        for language, before, after in ((settings.LANGUAGE_CODE, "body", "closing"), ("en", "body_en", "closing_en")):
            with translation.override(language):
                editor.append((form[before], minutes_results(session=session), form[after]))
    confirmations = followup.current_confirmations(session) if draft is not None else session.minutes_confirmations.none()
    has_confirmed = seat is not None and confirmations.filter(member=seat).exists()
    context = {
        "session": session,
        "draft": draft,
        "results": minutes_results(session=session) if draft is not None else "",
        "confirmed": confirmations.count(),
        "needed": followup.confirmations_needed(session),
        "can_confirm": editable and seat is not None and not has_confirmed,
        "has_confirmed": has_confirmed,
        "keeper": keeper,
        "editable": editable,
        "form": form,
        "editor": editor,
        "published": session.status == CouncilSession.Status.MINUTES_PUBLISHED,
        "public_page": (en_page if (translation.get_language() or "").startswith("en") else zh_page),
    }
    return render(request, "followup/member_minutes.html", context)


@never_cache
@login_required
@require_POST
def edit_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    session = _member_session(request, pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        try:
            followup.edit_minutes(
                session=session,
                actor=request.user,
                body=form.cleaned_data["body"],
                body_en=form.cleaned_data["body_en"],
                closing=form.cleaned_data["closing"],
                closing_en=form.cleaned_data["closing_en"],
            )
        except (followup.FollowUpError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The minutes have been saved."))
    else:
        messages.error(request, _("The minutes cannot be empty, in either language."))
    return redirect("followup:member_minutes", pk=session.pk)


@never_cache
@login_required
@require_POST
def confirm_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    session = _member_session(request, pk)
    try:
        followup.confirm_minutes(session=session, user=request.user)
    except (followup.FollowUpError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you: you have confirmed the minutes."))
    return redirect("followup:member_minutes", pk=session.pk)


@never_cache
@login_required
@require_POST
def publish_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    session = _member_session(request, pk)
    try:
        followup.publish_minutes(session=session, actor=request.user)
    except (followup.FollowUpError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The minutes are published in both languages."))
    return redirect("followup:member_minutes", pk=session.pk)


def _actions_prefetch() -> Prefetch:
    return Prefetch(
        "actions",
        queryset=FollowUpAction.objects.prefetch_related(
            Prefetch("updates", queryset=ActionUpdate.objects.order_by("created_at", "pk"))
        ),
    )


@require_safe
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(
        followup.public_decisions()
        .select_related("item__session__council", "item__result", "topic")
        .prefetch_related(_actions_prefetch()),
        pk=pk,
    )
    answered = Objection.objects.filter(decision=decision, answered_at__isnull=False).order_by("answered_at", "pk")
    context = {
        "decision": decision,
        "item": decision.item,
        "result": getattr(decision.item, "result", None),
        "answered": answered,
        "waiting": Objection.objects.filter(decision=decision, answered_at__isnull=True).count(),
        "open_for_objections": followup.in_notice_period(decision),
        "form": ObjectionForm(),
        "today": timezone.localdate(),
    }
    return render(request, "followup/decision_detail.html", context)


@never_cache
@login_required
@require_POST
def file_objection(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(followup.public_decisions(), pk=pk)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            followup.file_objection(decision=decision, resident=request.user, text=form.cleaned_data["text"])
        except (followup.FollowUpError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Your objection has been filed. The community will answer it before the decision takes effect.")
            )
    else:
        messages.error(
            request, _("Write your objection first (at most %(count)d characters).") % {"count": followup.MAX_OBJECTION_CHARS}
        )
    return redirect("followup:decision_detail", pk=decision.pk)


# The progress page's groups, in order: what residents may still object to, what is being carried out, what is done.
PROGRESS_GROUPS = (Decision.Status.NOTICE, Decision.Status.IN_EFFECT, Decision.Status.COMPLETED)


@require_safe
def progress(request: HttpRequest) -> HttpResponse:
    """Every public decision, grouped: in its notice period (open for objections), in effect with its actions,
    responsible party, due date and progress, and completed. `?status=` shows one group."""
    status = request.GET.get("status", "")
    shown = [status] if status in PROGRESS_GROUPS else list(PROGRESS_GROUPS)
    counts = dict(Decision.objects.filter(status__in=PROGRESS_GROUPS).values_list("status").annotate(n=Count("pk")).order_by())
    decisions = (
        Decision.objects.filter(status__in=shown)
        .select_related("item__session__council")
        .prefetch_related(Prefetch("actions", queryset=FollowUpAction.objects.order_by("due_on", "pk")))
        .annotate(
            group=Case(*(When(status=value, then=Value(n)) for n, value in enumerate(PROGRESS_GROUPS))),
            latest=Coalesce("completed_at", "effective_at", "created_at"),
        )
        .order_by("group", "-latest", "-pk")
    )
    page = Paginator(decisions, DECISIONS_PER_PAGE).get_page(request.GET.get("page"))
    groups = [(value, Decision.Status(value).label, counts.get(value, 0), status == value) for value in PROGRESS_GROUPS]
    context = {"page_obj": page, "today": timezone.localdate(), "groups": groups, "status": status if len(shown) == 1 else ""}
    return render(request, "followup/progress.html", context)
