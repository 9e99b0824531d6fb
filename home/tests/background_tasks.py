"""A task for the worker tests: it records each start and each finish in a file, sleeping between."""

import time
from pathlib import Path

from django_tasks import task


@task()
def record_slowly(path: str, seconds: float) -> str:
    journal = Path(path)
    with journal.open("a") as file:
        file.write("started\n")
    time.sleep(seconds)
    with journal.open("a") as file:
        file.write("finished\n")
    return "finished"
