"""Staff pages in the Wagtail admin: award, bulk award, hand-over, audit log, dashboard.

Each page is for staff and heads of a community (and superusers) and shows only their
community's residents; the services check that again for every change.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from home.phone import mobile_matches
from home.scope import for_request, staff_only

from . import audit, reports, services
from .forms import AdjustForm, AwardForm, BulkUploadForm, FindResidentForm, HandOverForm, ReverseForm
from .models import LedgerEntry
from .sheets import SheetError, SheetRow, read_sheet

SHEET_SALT = "points.bulk-award"


points_staff_required = staff_only()
HISTORY = 50  # the resident's latest staff actions shown beside the forms


def _render(request: HttpRequest, template: str, title: str, context: dict, *, icon: str = "pick") -> HttpResponse:
    context = {"page_title": title, "header_title": title, "header_icon": icon, **context}
    return render(request, template, context)


def residents_of(request: HttpRequest):
    """The residents whose points the staff member of `request` manages (their community's row with them)."""
    residents = get_user_model().objects.filter(is_active=True, profile__isnull=False)
    return for_request(request).filter(residents, "profile__community").select_related("profile__community")


@points_staff_required
def find_resident(request: HttpRequest, *, purpose: str = "award") -> HttpResponse:
    form = FindResidentForm(request.GET or None)
    results = []
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        results = list(
            residents_of(request)
            # The start of an e-mail address, a name or a mobile number is enough (staff type as they hear it).
            .filter(Q(profile__display_name__icontains=q) | mobile_matches(q, "profile__mobile") | Q(email__istartswith=q))
            .order_by("profile__display_name", "pk")[:20]
        )
    title = _("Adjust a balance") if purpose == "adjust" else _("Award points")
    context = {"form": form, "results": results, "purpose": purpose}
    return _render(request, "points/admin/find_resident.html", title, context)


@points_staff_required
def adjust(request: HttpRequest, user_id: int) -> HttpResponse:
    """A correction up or down with a reason (services.adjust); the same form sent twice adjusts once."""
    resident = get_object_or_404(residents_of(request), pk=user_id)
    form = AdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.adjust(
                actor=request.user, resident=resident, amount=data["amount"], reason=data["reason"], key=data["token"]
            )
        except (services.PointsError, PermissionDenied) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Balance of %(name)s adjusted by %(points)s points.")
                % {"name": resident.profile or resident, "points": entry.amount},
            )
            return redirect("points_admin:audit_log")
    account = services.get_account(resident=resident)
    context = {"form": form, "resident": resident, "account": account, "history": audit.history(account)[:HISTORY]}
    return _render(request, "points/admin/adjust.html", _("Adjust a balance"), context, icon="edit")


def manual_entries(request: HttpRequest):
    """Awards, adjustments and reversals made by a person, within the communities of `request`'s staff member."""
    entries = LedgerEntry.objects.filter(actor__isnull=False, kind__in=["earn", "adjust", "reverse"]).select_related(
        "actor", "account__resident__profile__community", "rule"
    )
    return for_request(request).filter(entries, "account__resident__profile__community")


@points_staff_required
def award(request: HttpRequest, user_id: int) -> HttpResponse:
    resident = get_object_or_404(residents_of(request), pk=user_id)
    form = AwardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.award_by_staff(
                actor=request.user,
                resident=resident,
                rule_code=data["rule"].code,
                amount=data["amount"],
                hours=data["hours"],
                reason=data["reason"],
                source_key=f"manual:{data['token']}",
            )
        except (services.PointsError, PermissionDenied) as error:
            form.add_error(None, str(error))
        else:
            if entry is None:
                messages.warning(request, _("This form was already submitted; nothing more was awarded."))
            else:
                messages.success(
                    request,
                    ngettext("%(points)s point awarded to %(name)s.", "%(points)s points awarded to %(name)s.", entry.amount)
                    % {"points": entry.amount, "name": resident.profile or resident},
                )
            # Back to the same resident: their new balance, and the form for the next award.
            return redirect("points_admin:award", user_id=resident.pk)
    account = services.get_account(resident=resident)
    context = {"form": form, "resident": resident, "account": account, "history": audit.history(account)[:HISTORY]}
    return _render(request, "points/admin/award.html", _("Award points"), context)


@points_staff_required
def bulk_award(request: HttpRequest) -> HttpResponse:
    """Upload → dry run with per-row results → confirm (the rows travel signed in the form)."""
    form = BulkUploadForm()
    context: dict = {"form": form}
    if request.method == "POST" and "rows" in request.POST:
        try:
            raw = signing.loads(request.POST["rows"], salt=SHEET_SALT, max_age=3600)
        except signing.BadSignature:
            messages.error(request, _("The preview has expired; please upload the file again."))
            return redirect("points_admin:bulk_award")
        rows = [SheetRow(**row) for row in raw]
        results = services.bulk_award(actor=request.user, rows=rows, dry_run=False)
        context.update(results=results, done=True, summary=_summary(results))
    elif request.method == "POST":
        form = BulkUploadForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = read_sheet(upload.name, upload.read(reads_limit()))
            except SheetError as error:
                form.add_error("file", str(error))
            else:
                results = services.bulk_award(actor=request.user, rows=rows, dry_run=True)
                context.update(
                    results=results,
                    summary=_summary(results),
                    rows=signing.dumps([row.__dict__ for row in rows], salt=SHEET_SALT, compress=True),
                )
    return _render(request, "points/admin/bulk_award.html", _("Bulk award"), context, icon="upload")


def reads_limit() -> int:
    from .sheets import MAX_BYTES

    return MAX_BYTES + 1


def _summary(results) -> dict[str, int]:
    summary = {"awarded": 0, "repeat": 0, "error": 0}
    for result in results:
        summary[result.status] += 1
    return summary


@points_staff_required
def hand_over(request: HttpRequest) -> HttpResponse:
    """Type or scan a pickup code, see what it is for, hand the gift over."""
    code = request.POST.get("code") or request.GET.get("code") or ""
    form = HandOverForm({"code": code} if code else None)
    reservation = None
    if code and form.is_valid():
        try:
            if request.method == "POST":
                reservation = services.hand_over(code=code, actor=request.user)
                messages.success(request, _("Handed over: %(code)s.") % {"code": services.format_code(reservation.code)})
                return redirect("points_admin:hand_over")
            reservation = services.find_reservation(code=code, actor=request.user)
        except (services.PointsError, PermissionDenied) as error:
            form.add_error("code", str(error) or _("This code belongs to another community."))
    context = {"form": form, "reservation": reservation}
    if reservation is not None:
        context["display_code"] = services.format_code(reservation.code)
    return _render(request, "points/admin/hand_over.html", _("Hand over a reward"), context, icon="tick")


@points_staff_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Every manual award, adjustment and reversal made by a person, newest first, with its author."""
    entries = manual_entries(request).annotate(reversed=Exists(LedgerEntry.objects.filter(reverses=OuterRef("pk"))))
    page = Paginator(entries.order_by("-pk"), 50).get_page(request.GET.get("page"))
    return _render(request, "points/admin/audit_log.html", _("Points audit log"), {"page_obj": page}, icon="history")


@points_staff_required
def reverse_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Take back one manual award or adjustment, with a reason; refused (and nothing changed) if not possible."""
    entry = get_object_or_404(manual_entries(request).exclude(kind="reverse"), pk=entry_id)
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reverse_by_staff(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
        except (services.PointsError, PermissionDenied) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The entry has been reversed."))
            return redirect("points_admin:audit_log")
    context = {"form": form, "entry": entry}
    return _render(request, "points/admin/reverse.html", _("Reverse an entry"), context, icon="rotate")


@points_staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    data = reports.dashboard(scope=for_request(request))
    export = request.GET.get("export")
    if export == "csv":
        response = HttpResponse(reports.export_csv(data), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="linli-points.csv"'
        return response
    if export == "xlsx":
        response = HttpResponse(
            reports.export_xlsx(data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = 'attachment; filename="linli-points.xlsx"'
        return response
    labels = [month.strftime("%m") for month in data.months]
    chart = reports.column_chart(
        title=_("Points issued and spent per month"),
        labels=labels,
        series=[(_("Issued"), data.issued_per_month, "#2e7d32"), (_("Spent"), data.spent_per_month, "#c62828")],
    )
    context = {"data": data, "chart": chart, "charts": reports.charts(data)}
    return _render(request, "points/admin/dashboard.html", _("Points dashboard"), context, icon="table")
