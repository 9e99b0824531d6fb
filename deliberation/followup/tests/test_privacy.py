"""A resident's council seats and objections are in their data export; erasure unlinks their objections and keeps
the seat, a public record the council's results refer to."""

from deliberation.council.models import CouncilMember
from deliberation.followup.models import Objection
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import decide
from home.services import erase_account, export_personal_data

council = followup_support.council
session = followup_support.session
topic = followup_support.topic
people = followup_support.people
item = followup_support.item
staff = followup_support.staff


def test_seats_and_objections_are_exported_and_erasure_unlinks_the_objection(people, item, staff, council):
    writer, _supporter = people
    decision = decide(item, actor=staff)
    objection = Objection.objects.create(decision=decision, resident=writer, text="时间不合适")
    seat = council.members.order_by("pk").first()
    other = Objection.objects.create(decision=decision, resident=seat.user, text="另一位的异议")

    data = export_personal_data(user=writer)
    assert [row["text"] for row in data["objections"]] == ["时间不合适"]
    assert data["council_seats"] == []
    seat_data = export_personal_data(user=seat.user)
    assert [row["role"] for row in seat_data["council_seats"]] == [seat.role]
    assert seat_data["council_seats"][0]["term_start"] == seat.term_start.isoformat()

    erase_account(user=writer, actor=writer)
    objection.refresh_from_db()
    assert objection.resident is None and objection.text == "时间不合适"  # the decision's record stays
    assert Objection.objects.get(pk=other.pk).resident == seat.user  # nobody else's
    erase_account(user=seat.user, actor=seat.user)
    assert CouncilMember.objects.filter(pk=seat.pk).exists()
