"""Staff triage in the Wagtail admin: inbox, letter, topics, concerns dashboard, hotline import.

Every view is scoped to the communities the user is staff of (all of them for street
managers); a letter or topic of another community answers 404. Each POST calls one service.
"""

from __future__ import annotations

import datetime
from collections import Counter

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from deliberation.mailbox import services
from deliberation.mailbox.models import (
    Category,
    HotlineColumnMapping,
    HotlineUpload,
    IncomingMail,
    Letter,
    MailboxSettings,
    Topic,
    TopicChange,
)
from deliberation.mailbox.sections import STAFF_TOPIC_SECTIONS
from home import i18n
from home.models import Grid
from home.scope import for_request, for_user, staff_only
from home.sections import rendered_sections
from plumbing import audit
from plumbing.charts import bar_chart
from plumbing.parsing import optional_pk, required_pk
from plumbing.spreadsheets import csv_writer

User = get_user_model()
OPEN_STATUSES = [Letter.Status.NEW, Letter.Status.ACCEPTED]


staff_required = staff_only(gettext_lazy("Only community staff handle letters."))


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Open (new or accepted)")), ("all", gettext_lazy("All"))] + Letter.Status.choices,
    )
    community = forms.ModelChoiceField(label=gettext_lazy("Community"), queryset=None, required=False)
    grid = forms.ModelChoiceField(label=gettext_lazy("Grid"), queryset=None, required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False, choices=[("", "—")] + Category.choices)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False, choices=[("", "—")] + Letter.Channel.choices)
    older_than = forms.IntegerField(label=gettext_lazy("Older than (days)"), required=False, min_value=0, max_value=36500)
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        communities = for_user(user).communities()
        self.fields["community"].queryset = communities
        self.fields["grid"].queryset = Grid.objects.filter(community__in=communities).select_related("community")


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None, user=request.user)
    letters = services.letters_for_staff(request.user).select_related("community", "grid", "topic", "assigned_to")
    status_counts = dict(services.letters_for_staff(request.user).values_list("status").annotate(n=Count("pk")))
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status", "")
    if status == "":
        letters = letters.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        letters = letters.filter(status=status)
    for name in ("community", "grid", "category", "channel"):
        if data.get(name):
            letters = letters.filter(**{name: data[name]})
    if data.get("older_than") is not None:
        letters = letters.filter(received_at__lt=timezone.now() - datetime.timedelta(days=data["older_than"]))
    mailbox = MailboxSettings.load()
    if data.get("overdue"):
        letters = services.overdue_letters(letters=letters.filter(status__in=OPEN_STATUSES))
    page = Paginator(letters, 50).get_page(request.GET.get("page"))
    for letter in page:
        letter.overdue = letter.is_overdue(mailbox=mailbox)
    context = {
        "form": form,
        "page_obj": page,
        "status_counts": [(label, status_counts.get(value, 0)) for value, label in Letter.Status.choices],
    }
    return render(request, "mailbox/admin/inbox.html", context)


def _staff_letter(request: HttpRequest, pk: int) -> Letter:
    return get_object_or_404(
        services.letters_for_staff(request.user).select_related("community", "grid", "topic", "writer"), pk=pk
    )


LETTER_ACTIONS = {
    "accept": lambda letter, user, post: services.accept_letter(letter=letter, actor=user),
    "reply": lambda letter, user, post: services.reply_to_letter(letter=letter, actor=user, message=post.get("message", "")),
    "answer": lambda letter, user, post: services.answer_letter(letter=letter, actor=user, message=post.get("message", "")),
    "out_of_scope": lambda letter, user, post: services.mark_out_of_scope(
        letter=letter, actor=user, reason=post.get("reason", "")
    ),
    "note": lambda letter, user, post: services.add_note(letter=letter, actor=user, text=post.get("text", "")),
    "assign": lambda letter, user, post: services.assign_letter(
        letter=letter, actor=user, assignee=User.objects.filter(pk=optional_pk(post, "assignee")).first()
    ),
    "merge": lambda letter, user, post: services.merge_letter(
        letter=letter, actor=user, topic=get_object_or_404(Topic, pk=required_pk(post, "topic"), community=letter.community_id)
    ),
    "new_topic": lambda letter, user, post: services.merge_letter(
        letter=letter,
        actor=user,
        topic=services.create_topic(
            community=letter.community, title=post.get("title", ""), category=letter.category, actor=user
        ),
    ),
    "split": lambda letter, user, post: services.split_letter(letter=letter, actor=user, title=post.get("title", "")),
}


# Closing a letter cannot be undone: these actions need the form's box ticked ("confirm"), or nothing happens.
LETTER_ACTION_CONFIRM = {
    "answer": gettext_lazy("Nothing was sent: tick the box to confirm that this answer closes the letter."),
    "out_of_scope": gettext_lazy("Nothing was changed: tick the box to confirm that the letter is closed as out of scope."),
}


# What each action did, said back to the staff member (not only "Done.").
LETTER_ACTION_DONE = {
    "accept": gettext_lazy("Letter %(number)s accepted."),
    "reply": gettext_lazy("Your reply to letter %(number)s was added to its timeline for the writer."),
    "answer": gettext_lazy("Letter %(number)s answered."),
    "out_of_scope": gettext_lazy("Letter %(number)s marked as outside the community's remit."),
    "note": gettext_lazy("Staff note added to letter %(number)s."),
    "assign": gettext_lazy("Letter %(number)s assigned to %(name)s."),
    "merge": gettext_lazy("Letter %(number)s added to the topic “%(topic)s”."),
    "new_topic": gettext_lazy("Topic “%(topic)s” opened with letter %(number)s."),
    "split": gettext_lazy("Letter %(number)s moved to a topic of its own: “%(topic)s”."),
}


def _letter_done(name: str, letter: Letter) -> str:
    letter.refresh_from_db()
    if name == "assign" and letter.assigned_to_id is None:
        return _("Letter %(number)s is no longer assigned to anyone.") % {"number": letter.tracking_number}
    assignee = letter.assigned_to
    return LETTER_ACTION_DONE[name] % {
        "number": letter.tracking_number,
        "topic": letter.topic.title if letter.topic_id else "",
        "name": (getattr(assignee, "profile", None) and assignee.profile.display_name) or getattr(assignee, "email", ""),
    }


@staff_required
def letter_triage(request: HttpRequest, pk: int) -> HttpResponse:
    letter = _staff_letter(request, pk)
    if request.method == "POST":
        name = request.POST.get("action", "")
        action = LETTER_ACTIONS.get(name)
        if action is None:
            raise Http404
        try:
            if name in LETTER_ACTION_CONFIRM and request.POST.get("confirm") != "yes":
                raise services.MailboxError(LETTER_ACTION_CONFIRM[name])
            action(letter, request.user, request.POST)
        except (services.MailboxError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _letter_done(name, letter))
        return redirect("mailbox_admin:letter", pk=letter.pk)
    similar_topics, similar_letters = services.similar_to_letter(letter=letter)
    community = letter.community
    staff = (
        User.objects.filter(Q(groups=community.editors) | Q(groups=community.heads)).distinct()
        if community and community.editors
        else []
    )
    context = {
        "letter": letter,
        "photos": letter.photos.only("pk", "width", "height"),
        "events": letter.events.select_related("topic", "actor"),
        "notes": letter.notes.select_related("author"),
        "changes": letter.topic_changes.select_related("from_topic", "to_topic", "actor"),
        "similar_topics": similar_topics,
        "similar_letters": similar_letters,
        "staff": staff,
        "open_topics": Topic.objects.filter(community=letter.community_id).exclude(
            status__in=[Topic.Status.CLOSED, Topic.Status.REJECTED]
        ),
        "overdue": letter.is_overdue(),
        "accept_due": letter.accept_due(),
        "answer_due": letter.answer_due(),
    }
    return render(request, "mailbox/admin/letter.html", context)


@staff_required
def letter_photo(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    letter = _staff_letter(request, pk)
    photo = get_object_or_404(letter.photos, pk=photo_pk)
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _staff_topics(request: HttpRequest):
    topics = Topic.objects.select_related("community")
    if not request.user.is_superuser:
        topics = for_request(request).filter(topics, "community")
    return topics


@staff_required
def topic_list(request: HttpRequest) -> HttpResponse:
    topics = (
        _staff_topics(request)
        .annotate(letter_count=Count("letters", distinct=True), support_count=Count("supports", distinct=True))
        .order_by("-created_at", "-pk")
    )
    status = request.GET.get("status", "")
    if status in Topic.Status.values:
        topics = topics.filter(status=status)
    page = Paginator(topics, 50).get_page(request.GET.get("page"))
    return render(request, "mailbox/admin/topics.html", {"page_obj": page, "status": status, "statuses": Topic.Status.choices})


# A closed or rejected topic stays so (services.TOPIC_FLOW): moving it there needs the form's box ticked.
FINAL_TOPIC_STATUSES = {Topic.Status.CLOSED, Topic.Status.REJECTED}


@staff_required
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_object_or_404(_staff_topics(request).annotate(support_count=Count("supports", distinct=True)), pk=pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                services.approve_topic_summary(
                    topic=topic,
                    actor=request.user,
                    summary=request.POST.get("summary", ""),
                    title=request.POST.get("title"),
                    title_en=request.POST.get("title_en"),
                    summary_en=request.POST.get("summary_en"),
                )
                done = _("The summary of topic “%(title)s” is approved.")
            elif request.POST.get("action") == "status":
                if request.POST.get("status") in FINAL_TOPIC_STATUSES and request.POST.get("confirm") != "yes":
                    raise services.MailboxError(
                        _("Nothing was changed: closing or rejecting a topic cannot be undone, tick the box to confirm it.")
                    )
                services.change_topic_status(
                    topic=topic, actor=request.user, status=request.POST.get("status", ""), reason=request.POST.get("reason", "")
                )
                done = _("Topic “%(title)s” is now “%(status)s”.")
            else:
                raise Http404
        except (services.MailboxError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            topic.refresh_from_db()
            messages.success(request, done % {"title": topic.title, "status": topic.get_status_display()})
        return redirect("mailbox_admin:topic", pk=topic.pk)
    residents, households = services.raised_by(topic)
    threshold = services.support_threshold(topic.community)
    context = {
        "topic": topic,
        "letters": topic.letters.select_related("grid"),
        "residents": residents,
        "households": households,
        "threshold": threshold,
        "ready": topic.support_count >= threshold,
        "next_statuses": [(value, Topic.Status(value).label) for value in sorted(services.TOPIC_FLOW.get(topic.status, set()))],
        "changes": TopicChange.objects.filter(Q(from_topic=topic) | Q(to_topic=topic)).select_related(
            "letter", "from_topic", "to_topic", "actor"
        ),
        "staff_topic_sections": rendered_sections(STAFF_TOPIC_SECTIONS, request, topic),
        "history": audit.history(topic),  # who created, merged, approved and moved it (the audit log)
    }
    return render(request, "mailbox/admin/topic.html", context)


def _month_key(when: datetime.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m")


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Letters and topics by category, community, grid and month; the grid × category table of open concerns."""
    letters = services.letters_for_staff(request.user)
    topics = _staff_topics(request)
    year_ago = timezone.now() - datetime.timedelta(days=365)
    by_category = dict(letters.values_list("category").annotate(n=Count("pk")))
    by_month = dict(
        (_month_key(month), n)
        for month, n in letters.filter(received_at__gte=year_ago)
        .annotate(month=TruncMonth("received_at"))
        .values_list("month")
        .annotate(n=Count("pk"))
    )
    communities = {c.pk: c for c in for_request(request).communities()}
    names = {pk: i18n.label(community) for pk, community in communities.items()}
    by_community = dict(letters.values_list("community").annotate(n=Count("pk")))
    topics_by_status = dict(topics.values_list("status").annotate(n=Count("pk")))
    open_letters = letters.filter(status__in=OPEN_STATUSES + [Letter.Status.MERGED]).exclude(
        topic__status__in=[Topic.Status.CLOSED, Topic.Status.REJECTED]
    )
    cells = Counter(open_letters.values_list("grid", "category"))
    grid_ids = sorted({grid for grid, _category in cells}, key=lambda pk: (pk is None, pk or 0))
    grids = Grid.objects.in_bulk([pk for pk in grid_ids if pk])
    grid_names = {pk: i18n.label(grid) for pk, grid in grids.items()}
    table = [
        (
            grid_names.get(pk, str(grids[pk])) if pk else _("No grid"),
            [cells.get((pk, value), 0) for value in Category.values],
            sum(cells.get((pk, value), 0) for value in Category.values),
        )
        for pk in grid_ids
    ]
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="open-concerns.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with a BOM
        writer = csv_writer(response)
        writer.writerow([_("Grid")] + [str(label) for label in Category.labels] + [_("Total")])
        for name, counts, total in table:
            writer.writerow([name, *counts, total])
        return response
    answered = letters.filter(satisfied__isnull=False)
    satisfied = answered.filter(satisfied=True).count()
    answered_count = answered.count()
    today = timezone.localdate()
    months = []
    for back in range(11, -1, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        key = f"{year}-{month + 1:02d}"
        months.append((key, by_month.get(key, 0)))
    context = {
        "category_chart": bar_chart(
            [(str(label), by_category.get(value, 0)) for value, label in Category.choices], title=_("Letters by category")
        ),
        "month_chart": bar_chart(months, title=_("Letters by month")),
        "community_chart": bar_chart(
            [(names.get(pk, str(c)), by_community.get(pk, 0)) for pk, c in communities.items()],
            title=_("Letters by community"),
        ),
        "topic_chart": bar_chart(
            [(str(label), topics_by_status.get(value, 0)) for value, label in Topic.Status.choices], title=_("Topics by status")
        ),
        "categories": Category.labels,
        "table": table,
        "overdue": len(services.overdue_letters(letters=letters.filter(status__in=OPEN_STATUSES))),
        "satisfaction": round(100 * satisfied / answered_count) if answered_count else None,
        "answered_count": answered_count,
        "open_count": open_letters.count(),
    }
    return render(request, "mailbox/admin/dashboard.html", context)


class UploadForm(forms.Form):
    community = forms.ModelChoiceField(label=gettext_lazy("Community"), queryset=None)
    file = forms.FileField(label=gettext_lazy("Export file (CSV or XLSX)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = for_user(user).communities()


@staff_required
def hotline_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            headers, rows = services.read_table(data=upload_file.read(), filename=upload_file.name)
        except services.MailboxError as error:
            form.add_error("file", str(error))
        else:
            upload = HotlineUpload.objects.create(
                community=form.cleaned_data["community"],
                uploaded_by=request.user,
                filename=upload_file.name[:200],
                headers=headers,
                rows=rows,
            )
            return redirect("mailbox_admin:hotline_preview", pk=upload.pk)
    return render(request, "mailbox/admin/hotline_upload.html", {"form": form})


FIELD_LABELS = {
    "external_id": gettext_lazy("Record id"),
    "received_at": gettext_lazy("Received at"),
    "subject": gettext_lazy("Subject"),
    "body": gettext_lazy("Text"),
    "category": gettext_lazy("Category"),
    "contact_name": gettext_lazy("Name"),
    "contact": gettext_lazy("Contact"),
    "place": gettext_lazy("Place"),
    "grid": gettext_lazy("Grid"),
}


@staff_required
def hotline_preview(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(HotlineUpload, pk=pk, community__in=for_request(request).communities())
    saved = HotlineColumnMapping.objects.filter(community=upload.community).first()
    source = request.POST if request.method == "POST" else None
    mapping = {}
    for name in services.HOTLINE_FIELDS:
        column = (source.get(f"map_{name}", "") if source is not None else (saved.mapping.get(name, "") if saved else "")) or ""
        if column in upload.headers:
            mapping[name] = column
    rows, error = [], None
    if request.method == "POST" and request.POST.get("action") == "import":
        try:
            created = services.import_hotline(upload=upload, mapping=mapping, actor=request.user)
        except (services.MailboxError, PermissionDenied) as failure:
            messages.error(request, str(failure))
        else:
            messages.success(
                request, ngettext("%(count)d letter imported.", "%(count)d letters imported.", created) % {"count": created}
            )
            return redirect("mailbox_admin:inbox")
    try:
        rows = services.preview_hotline(upload=upload, mapping=mapping)
    except services.MailboxError as failure:
        error = str(failure)
    for row in rows:
        row.cells = [row.values.get(name, "") for name in services.HOTLINE_FIELDS if name in mapping]
    context = {
        "upload": upload,
        "fields": [(name, FIELD_LABELS[name], mapping.get(name, "")) for name in services.HOTLINE_FIELDS],
        "rows": rows[:200],
        "error": error,
        "importable": sum(row.importable for row in rows),
        "duplicates": sum(row.duplicate for row in rows),
        "invalid": sum(bool(row.errors) for row in rows),
    }
    return render(request, "mailbox/admin/hotline_preview.html", context)


class StaffEntryForm(forms.Form):
    """A letter received on paper or by phone, typed in by staff on the resident's behalf."""

    community = forms.ModelChoiceField(label=gettext_lazy("Community"), queryset=None)
    grid = forms.ModelChoiceField(label=gettext_lazy("Grid"), queryset=None, required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Category.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=120)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 6}))
    place = forms.CharField(label=gettext_lazy("Place"), max_length=120, required=False)
    privacy = forms.ChoiceField(label=gettext_lazy("Privacy"), choices=Letter.Privacy.choices, initial=Letter.Privacy.STAFF_ONLY)
    resident_email = forms.CharField(
        label=gettext_lazy("Resident's verified mobile number or e-mail (optional)"),
        max_length=254,
        required=False,
        help_text=gettext_lazy("The letter then appears under the resident's “My letters”."),
    )
    contact_name = forms.CharField(label=gettext_lazy("Name"), max_length=60, required=False)
    contact = forms.CharField(label=gettext_lazy("Contact"), max_length=254, required=False)
    consent = forms.BooleanField(label=gettext_lazy("The resident agreed that I enter this letter for them."), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        communities = for_user(user).communities()
        self.fields["community"].queryset = communities
        self.fields["grid"].queryset = Grid.objects.filter(community__in=communities)

    def clean_resident_email(self):
        address = self.cleaned_data["resident_email"]
        if not address:
            return None
        writer = services.verified_user(address)
        if writer is None:
            raise forms.ValidationError(_("No resident with this verified mobile number or e-mail address."))
        return writer


@staff_required
def staff_entry(request: HttpRequest) -> HttpResponse:
    form = StaffEntryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        writer = data["resident_email"]
        language = getattr(getattr(writer, "profile", None), "preferred_language", None) or request.LANGUAGE_CODE
        try:
            letter = services.submit_letter(
                channel=Letter.Channel.STAFF,
                actor=request.user,
                consent_recorded=data["consent"],
                writer=writer,
                community=data["community"],
                grid=data["grid"],
                category=data["category"],
                subject=data["subject"],
                body=data["body"],
                place=data["place"],
                privacy=data["privacy"],
                contact_name=data["contact_name"],
                contact=data["contact"],
                language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
            )
        except (services.MailboxError, PermissionDenied) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Letter %(number)s entered.") % {"number": letter.tracking_number})
            return redirect("mailbox_admin:letter", pk=letter.pk)
    return render(request, "mailbox/admin/staff_entry.html", {"form": form})


@staff_required
def quarantine(request: HttpRequest) -> HttpResponse:
    """Mail that could not become a letter, with its raw source; only street managers see it (it may name anyone)."""
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only street managers see quarantined mail."))
    mails = IncomingMail.objects.filter(outcome=IncomingMail.Outcome.QUARANTINED).order_by("-fetched_at", "-pk")
    if request.GET.get("raw"):
        incoming = get_object_or_404(mails, pk=required_pk(request.GET, "raw"))
        response = HttpResponse(bytes(incoming.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="quarantined-{incoming.pk}.eml"'
        return response
    page = Paginator(mails.defer("raw"), 50).get_page(request.GET.get("page"))
    return render(request, "mailbox/admin/quarantine.html", {"page_obj": page})
