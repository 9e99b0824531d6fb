# Linli — the front door. `make run` and `make test` work on a fresh machine with only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in mail, .ics files and QR codes point at the address `make run` serves, unless set.
export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test test-dates bench lint format messages check-messages clean

# Re-install only when a requirements file changed (make compares the stamp's time).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	@# The demo street (demo/): the development settings install the demo app, production never does.
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py create_local_admin
	@# Background tasks (reminders, expiry, mail) need no second terminal: a task worker and
	@# the scheduler run beside the server and stop with it.
	$(BIN)/python manage.py db_worker --no-reload -v0 & worker=$$!; \
	$(BIN)/python manage.py scheduler -v0 & clock=$$!; \
	trap 'kill $$worker $$clock 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production mode on loopback (see README, Production): linli.settings.production reads its
# settings from the environment and refuses to start without SECRET_KEY, DATABASE_URL,
# ALLOWED_HOSTS, COUNCIL_BALLOT_KEY and COUNCIL_CHAIN_KEY; SECURE_SSL_REDIRECT=0 for plain HTTP. gthread workers keep connections
# alive: WEB_CONCURRENCY processes (default two per core) of GUNICORN_THREADS threads (default 2): more
# processes of fewer threads wait less for the interpreter (a booking rush: 79-102 -> 131 bookings/s). No access log (the proxy in front keeps one); GUNICORN_CMD_ARGS adds options,
# e.g. GUNICORN_CMD_ARGS="--access-logfile -". Keep-alive 75 s outlasts the proxy's upstream keep-alive
# (nginx: keepalive_timeout 60s), so the proxy, never gunicorn, closes an idle connection.
serve: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=linli.settings.production $(BIN)/python manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=linli.settings.production exec $(BIN)/gunicorn linli.wsgi --pythonpath site \
		--bind 127.0.0.1:$(PORT) --workers $${WEB_CONCURRENCY:-$$((2 * $$(nproc)))} --worker-class gthread --threads $${GUNICORN_THREADS:-2} \
		--keep-alive 75

test: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite on SQLite under a fake, running clock (libfaketime: apt-get install faketime) at moments
# when tests that assume "today" break: UTC times just before and after midnight in Shanghai at a
# month's, week's and year's end and at the start of public holidays. The browser and IMAP tests are
# left out (Chromium and Dovecot keep the real clock). About 8 minutes per moment.
DATE_MOMENTS ?= "2026-12-31 15:40:00" "2026-12-31 16:30:00" "2026-11-29 15:40:00" "2026-09-30 16:30:00" "2027-02-05 16:30:00"
test-dates: $(VENV)/.installed-dev
	@for moment in $(DATE_MOMENTS); do \
	  echo "test-dates: $$moment UTC"; \
	  faketime -f "@$$moment" $(BIN)/pytest -q -p no:cacheprovider --ignore=tests/browser -k "not dovecot and not fetch" $(PYTEST_ARGS) || exit 1; \
	done

# Production mode on 127.0.0.1 with the demo data, bounded load (about a minute); see bench/run.py.
# Then classes and activities on a throwaway PostgreSQL database: a 500-resident booking rush
# and the list and calendars with 1,000 activities (about four minutes); see bench/events.py.
# The API's activity list and a resident's bookings, whole and as ETag hits; see bench/api.py.
# A council of 50 voting on 10 items over HTTP on PostgreSQL (under a minute); see bench/council.py.
# The outbox: 2,000 messages to a local SMTP sink, and bookings with a slow SMTP server; see bench/outbox.py.
# Neighbour help: a grid with 10,000 posts, its page and its board (about three minutes); see bench/neighbours.py.
# A gunicorn worker's memory over 10,000 mixed requests (about ten minutes); see bench/memory.py.
# BENCH_ARGS="--seconds 5 --file-cache --python-load" for a shorter run or other choices.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/api.py $(BENCH_ARGS)
	$(BIN)/python bench/events.py $(BENCH_ARGS)
	$(BIN)/python bench/mailbox.py
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/points.py $(POINTS_BENCH_ARGS)
	$(BIN)/python bench/council.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/neighbours.py $(BENCH_ARGS)
	$(BIN)/python bench/memory.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract messages (needs GNU gettext) and compile catalogues (pure Python, polib).
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'var/*' --no-obsolete
	$(BIN)/python manage.py compile_catalogues

clean:
	rm -rf $(VENV) var db.sqlite3
