"""A resident's letters are in their data export; erasure removes their name and contact from them."""

from deliberation.mailbox import factories
from deliberation.mailbox.models import Letter
from home.services import erase_account, export_personal_data


def test_letters_are_exported_and_erasure_forgets_the_writer(db, site_pages):
    community = factories.community_with_staff()
    writer = factories.resident(community)
    letter = factories.web_letter(writer=writer, community=community, contact_name="王秀英", contact="13812345678")
    data = export_personal_data(user=writer)
    assert [item["tracking_number"] for item in data["letters"]] == [letter.tracking_number]
    erase_account(user=writer, actor=writer)
    letter = Letter.objects.get(pk=letter.pk)
    assert (letter.contact_name, letter.contact) == ("", "")
    assert letter.body  # the concern itself stays for its topic
