"""Wagtail's database search backend, with double quotes in search terms escaped on SQLite.

The SQLite backend wraps each term in double quotes for FTS5 without escaping the quotes inside it,
so a search for `"` (the site search, the admin search, the page chooser) was an FTS5 syntax error
and a server error. FTS5 escapes a double quote inside a string by doubling it; that is done here,
before the backend builds its MATCH expression. PostgreSQL and the fallback backend are unchanged.
"""

from __future__ import annotations

from functools import cache

from wagtail.search.backends.database import SearchBackend as DatabaseSearchBackend
from wagtail.search.query import Phrase, PlainText


def escape_quotes(query):
    if isinstance(query, PlainText):
        return PlainText(query.query_string.replace('"', '""'), operator=query.operator, boost=query.boost)
    if isinstance(query, Phrase):
        return Phrase(query.query_string.replace('"', '""'))
    return query


@cache
def quoted_sqlite_backend_class():
    # Imported only on SQLite: the module defines the FTS index model, which exists only there.
    from wagtail.search.backends.database.sqlite.sqlite import (
        SQLiteAutocompleteQueryCompiler,
        SQLiteSearchBackend,
        SQLiteSearchQueryCompiler,
    )

    class QuotedSearchQueryCompiler(SQLiteSearchQueryCompiler):
        def build_search_query_content(self, query, config=None):
            return super().build_search_query_content(escape_quotes(query), config=config)

    class QuotedAutocompleteQueryCompiler(SQLiteAutocompleteQueryCompiler):
        def build_search_query_content(self, query, config=None):
            return super().build_search_query_content(escape_quotes(query), config=config)

    class QuotedSQLiteSearchBackend(SQLiteSearchBackend):
        query_compiler_class = QuotedSearchQueryCompiler
        autocomplete_query_compiler_class = QuotedAutocompleteQueryCompiler

    return QuotedSQLiteSearchBackend


def SearchBackend(params):  # noqa: N802 (the name Wagtail looks up in a backend module)
    backend = DatabaseSearchBackend(params)
    if type(backend).__name__ != "SQLiteSearchBackend":
        return backend
    return quoted_sqlite_backend_class()(params)
