"""The council's follow-up in the Wagtail admin, for community staff: decisions (flagged when an objection
waits or an action is overdue), a decision's objections, actions and progress, and sessions' minutes.

Scoped like the mailbox: another community's decision answers 404. Each POST calls one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.council.models import CouncilSession
from deliberation.followup import services as followup
from deliberation.followup.forms import ActionForm, AnswerForm, ProgressForm
from deliberation.followup.models import FollowUpAction, MinutesPage, Objection
from deliberation.mailbox.admin_views import staff_required
from home.i18n import source_language
from home.scope import for_request
from plumbing import audit
from plumbing.parsing import required_pk


@staff_required
def decisions(request: HttpRequest) -> HttpResponse:
    rows = list(followup.decisions_for_staff(request.user)[:200])
    return render(request, "followup/admin/decisions.html", {"decisions": rows})


@staff_required
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(
        followup.decisions_for_staff(request.user).prefetch_related(
            Prefetch("actions", queryset=FollowUpAction.objects.prefetch_related("updates"))
        ),
        pk=pk,
    )
    action_form, progress_form, answer_form = ActionForm(), ProgressForm(), AnswerForm()
    if request.method == "POST":
        what = request.POST.get("action")
        try:
            if what == "answer":
                answer_form = AnswerForm(request.POST)
                objection = get_object_or_404(Objection, pk=required_pk(request.POST, "objection"), decision=decision)
                if request.POST.get("confirm") != "yes":  # the answer cannot be changed once sent
                    raise followup.FollowUpError(_("Nothing was sent: tick the box to confirm that this answer is final."))
                if answer_form.is_valid():
                    followup.answer_objection(objection=objection, actor=request.user, **answer_form.cleaned_data)
                    messages.success(request, _("The objection has been answered; the resident is told by e-mail."))
                    return redirect("followup_admin:decision", pk=decision.pk)
            elif what == "add_action":
                action_form = ActionForm(request.POST)
                if action_form.is_valid():
                    followup.add_action(decision=decision, actor=request.user, **action_form.cleaned_data)
                    messages.success(request, _("The action has been added."))
                    return redirect("followup_admin:decision", pk=decision.pk)
            elif what == "progress":
                progress_form = ProgressForm(request.POST)
                action = get_object_or_404(FollowUpAction, pk=required_pk(request.POST, "follow_up_action"), decision=decision)
                if progress_form.is_valid():
                    followup.report_progress(action=action, actor=request.user, **progress_form.cleaned_data)
                    messages.success(request, _("The progress has been recorded."))
                    return redirect("followup_admin:decision", pk=decision.pk)
            else:
                raise Http404
            messages.error(request, _("Please correct the errors below."))
        except (followup.FollowUpError, PermissionDenied) as error:
            messages.error(request, str(error))
    context = {
        "decision": decision,
        "objections": decision.objections.select_related("answered_by").order_by("created_at", "pk"),
        "action_form": action_form,
        "progress_form": progress_form,
        "answer_form": answer_form,
        "today": timezone.localdate(),
        "open_actions": [action for action in decision.actions.all() if action.completed_at is None],
        # Who did what to the decision, its objections and its actions (the audit log, newest first).
        "history": audit.history(decision, (Objection, decision.objections.all()), (FollowUpAction, decision.actions.all())),
    }
    return render(request, "followup/admin/decision.html", context, status=400 if request.method == "POST" else 200)


@staff_required
def minutes(request: HttpRequest) -> HttpResponse:
    """Sessions that have taken place, with their minutes: generate, edit in Wagtail, confirmations."""
    sessions = CouncilSession.objects.filter(
        status__in=[CouncilSession.Status.CLOSED, CouncilSession.Status.MINUTES_PUBLISHED]
    ).select_related("council")
    if not request.user.is_superuser:
        sessions = for_request(request).filter(sessions, "council__community")
    if request.method == "POST":
        session = get_object_or_404(sessions, pk=required_pk(request.POST, "session"))
        try:
            followup.generate_minutes(session=session, actor=request.user)
        except (followup.FollowUpError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The draft minutes have been generated in both languages."))
        return redirect("followup_admin:minutes")
    sessions = list(sessions.order_by("-starts_at")[:100])
    pages: dict[int, dict[str, MinutesPage]] = {}
    for page in MinutesPage.objects.filter(session__in=sessions).select_related("locale"):
        pages.setdefault(page.session_id, {})[page.locale.language_code] = page
    for session in sessions:
        session.minutes_zh = pages.get(session.pk, {}).get(source_language())
        session.minutes_en = pages.get(session.pk, {}).get("en")
    return render(request, "followup/admin/minutes.html", {"sessions": sessions})
