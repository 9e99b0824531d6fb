"""A real IMAP server for the mailbox tests and benchmark: Dovecot on loopback, configured here, in a temporary folder."""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

IMAP_USER = "liuhe"
IMAP_PASSWORD = "mailbox-test-password"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
first_valid_uid = 1
default_login_user = dovecot
default_internal_user = dovecot
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/mail/%u
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    def __init__(self, base: Path, port: int) -> None:
        self.base, self.port = base, port

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    def account(self, folder: str = "INBOX"):
        from deliberation.mailbox.fetching import ImapAccount

        return ImapAccount(host="127.0.0.1", port=self.port, user=IMAP_USER, password=IMAP_PASSWORD, folder=folder, ssl=False)

    def new_folder(self, name: str) -> str:
        """A fresh folder per test: the server lives for the whole session."""
        client = self.client()
        client.create(name)
        client.logout()
        return name

    def append(self, folder: str, raw: bytes) -> None:
        client = self.client()
        status, data = client.append(folder, None, None, raw)
        client.logout()
        assert status == "OK", data

    def flagged(self, folder: str) -> list[int]:
        from deliberation.mailbox.fetching import STORED_FLAG

        client = self.client()
        client.select(folder)
        _status, data = client.uid("SEARCH", None, "KEYWORD", STORED_FLAG)
        client.logout()
        return [int(uid) for uid in data[0].split()]


class DovecotUnavailable(Exception):
    pass


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)


def start_dovecot() -> Dovecot:
    """Start a private Dovecot (the system's service is not touched); `stop_dovecot` ends it."""
    binary = dovecot_binary()
    if binary is None:
        raise DovecotUnavailable("Dovecot is not installed (apt-get install dovecot-imapd)")
    # Not pytest's tmp_path: its parents are private to root and the dovecot user must enter the mail folder.
    base = Path(tempfile.mkdtemp(prefix="linli-dovecot-"))
    port = _free_port()
    for folder in ("run", "state", "mail"):
        (base / folder).mkdir()
    shutil.chown(base / "mail", "dovecot", "dovecot")
    os.chmod(base, 0o755)
    config = base / "dovecot.conf"
    config.write_text(CONFIG.format(base=base, port=port, password=IMAP_PASSWORD))
    # Not capture_output: the daemon keeps inherited pipes open and run() would wait for ever.
    with open(base / "start.log", "wb") as start_log:
        subprocess.run([binary, "-c", str(config)], check=True, stdout=start_log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
                raise DovecotUnavailable(f"Dovecot did not start: {log}") from None
            time.sleep(0.1)
    return Dovecot(base, port)


def stop_dovecot(server: Dovecot) -> None:
    pid_file = server.base / "run" / "master.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        for _ in range(50):
            if not pid_file.exists():
                break
            time.sleep(0.1)
    shutil.rmtree(server.base, ignore_errors=True)
