"""Sections the apps built on the mailbox add to a topic's pages (home/sections.py explains the pattern): the
public topic page shows where the council took it, the staff's topic page how to put it on an agenda."""

TOPIC_SECTIONS = "linli_topic_sections"  # context(topic) -> names the section's template reads, {} to hide it
STAFF_TOPIC_SECTIONS = "linli_staff_topic_sections"  # the same, on the staff's topic page in the admin
