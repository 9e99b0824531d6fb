"""Sealed secret ballots: while an item's voting is open, each of its secret ballots is stored encrypted.

The key of an item is derived (HKDF-SHA256) from the master key `settings.COUNCIL_BALLOT_KEY`, which is never in
the database, with a random salt stored on the item when its voting opens (`AgendaItem.ballot_salt`) and the
item's id: every item has a key of its own, and destroying the salt at close destroys the key.

A ballot's plaintext is a version byte, the choice padded to a fixed width and the SHA-256 digest of its receipt
(random bytes for a ballot nobody can change), so every sealed ballot has the same length whatever was chosen.
AES-256-GCM with a fresh random nonce per sealing, the item's id as associated data (a ballot moved to another
item does not open). Anything that does not open -- a wrong or missing key, an altered row -- raises
`SealingError`: the vote or the close fails and nothing is stored, never a silent miscount.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = b"\x01"
CHOICE_WIDTH = 8  # the longest choice ("abstain") fits
DIGEST_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
PLAINTEXT_BYTES = len(VERSION) + CHOICE_WIDTH + DIGEST_BYTES
SEALED_BYTES = NONCE_BYTES + PLAINTEXT_BYTES + 16  # the GCM tag


class SealingError(RuntimeError):
    """A ballot cannot be sealed or opened: the ballot key is missing or wrong, or a stored ballot was altered."""


@dataclass(frozen=True)
class BallotContent:
    """What a sealed ballot holds: the choice and the SHA-256 digest of the receipt that may change it."""

    choice: str
    receipt: bytes


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def receipt_digest(receipt: str) -> bytes:
    return hashlib.sha256(receipt.encode()).digest()


def unheld_receipt() -> bytes:
    """The receipt digest of a ballot that nobody may change (recorded by the secretary in the room)."""
    return secrets.token_bytes(DIGEST_BYTES)


class ItemSeal:
    """Seals and opens the secret ballots of one item with the item's derived key."""

    def __init__(self, *, item_pk: int, salt: bytes | memoryview | None):
        if not salt:
            raise SealingError(f"agenda item {item_pk} has no ballot salt: its voting was not opened by open_voting")
        master = settings.COUNCIL_BALLOT_KEY
        if not master:
            raise SealingError("COUNCIL_BALLOT_KEY is not set: secret ballots cannot be sealed or opened")
        self.associated = b"linli.council.ballot:%d" % item_pk
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(salt), info=self.associated).derive(master.encode())
        self.aead = AESGCM(key)
        self.item_pk = item_pk

    @classmethod
    def for_item(cls, item) -> ItemSeal:
        return cls(item_pk=item.pk, salt=item.ballot_salt)

    def seal(self, content: BallotContent) -> bytes:
        choice = content.choice.encode()
        if len(choice) > CHOICE_WIDTH or len(content.receipt) != DIGEST_BYTES:
            raise ValueError("a ballot holds a known choice and a 32-byte receipt digest")
        plaintext = VERSION + choice.ljust(CHOICE_WIDTH, b"\0") + content.receipt
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, plaintext, self.associated)

    def unseal(self, sealed: bytes | memoryview | None) -> BallotContent:
        if sealed is None:
            raise SealingError(f"agenda item {self.item_pk} has a ballot stored unsealed while its voting is open")
        sealed = bytes(sealed)
        try:
            plaintext = self.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self.associated)
        except InvalidTag as error:
            raise SealingError(
                f"a sealed ballot of agenda item {self.item_pk} does not open: COUNCIL_BALLOT_KEY is wrong (or was "
                "changed while the vote was open), or the ballot was altered"
            ) from error
        if len(plaintext) != PLAINTEXT_BYTES or plaintext[:1] != VERSION:
            raise SealingError(f"a sealed ballot of agenda item {self.item_pk} has an unknown format")
        choice = plaintext[1 : 1 + CHOICE_WIDTH].rstrip(b"\0").decode()
        return BallotContent(choice=choice, receipt=plaintext[1 + CHOICE_WIDTH :])
