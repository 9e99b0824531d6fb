"""Sections the apps built on the council add to its public pages (home/sections.py explains the pattern): the
follow-up adds its decisions to the list of sessions and the minutes to a session's page."""

COUNCIL_LIST_SECTIONS = "linli_council_list_sections"  # context() -> names the section's template reads
COUNCIL_SESSION_SECTIONS = "linli_council_session_sections"  # context(session) -> the same, {} to hide it
