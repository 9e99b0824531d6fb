"""PostgreSQL for the test run: Django's backend, with the tables emptied by DELETE instead of TRUNCATE.

After each `transaction=True` test Django empties every table (`flush`). Its PostgreSQL backend does that
with one TRUNCATE of all 130 tables, which gives each table, index and sequence a new file: 2-4 seconds
per test on this machine, several minutes of a CI run. A DELETE of the few rows a test leaves costs
milliseconds. The tables end up just as empty; ids keep counting up, as they do after Django's TRUNCATE.

The ledger, the council's results and its chain refuse DELETE by trigger (append-only, see their migrations),
which TRUNCATE does not fire. The flush therefore runs with `session_replication_role = replica` (triggers
and foreign-key checks off for that one transaction), which needs a superuser, as the `postgres` role of
CI and development is. Connected as anyone else, the flush is Django's TRUNCATE.
"""

from __future__ import annotations

from functools import cached_property

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade or not self.connection.is_superuser:
            return super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        # `flush` runs these in one transaction: SET LOCAL ends with it.
        return [
            f"{style.SQL_KEYWORD('SET LOCAL')} session_replication_role = replica;",
            *(f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    @cached_property
    def is_superuser(self) -> bool:
        with self.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            return bool(cursor.fetchone()[0])
