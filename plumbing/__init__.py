"""Cross-cutting plumbing with no domain knowledge, used by every app (README, Architecture): the page cache and
the site's middleware (`middleware`), the scheduler of periodic tasks (`periodic`), charts (`charts`), the
client's address behind proxies (`network`), reading untrusted parameters (`parsing`), absolute links (`links`),
QR codes (`qr`), spreadsheets (`spreadsheets`) and the audit log (`audit`). Messages to people are the
`outbox` app's.

It imports no domain app (tests/test_architecture.py)."""
