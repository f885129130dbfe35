"""Phone numbers: normalised to E.164 digits without '+' (how Glific stores them)."""

from __future__ import annotations

import re

import phonenumbers

from models import SIMULATOR_PHONE_PREFIX
from resolvers.errors import InputErrors

# Digits and the punctuation people write numbers with. phonenumbers would also read letters
# ("1-800-FLOWERS") and drop extensions ("ext 5"); neither is a WhatsApp number.
_WRITTEN_NUMBER = re.compile(r"[0-9+\-.()/\s]+")


def is_simulator_phone(phone: str | None) -> bool:
    return bool(phone) and str(phone).startswith(SIMULATOR_PHONE_PREFIX)


def normalize_phone(raw: object, *, default_region: str = "", key: str = "phone") -> str:
    """'+91 98765-43210', '919876543210' -> '919876543210'; anything else is an input error."""
    if not isinstance(raw, str) or not raw.strip():
        raise InputErrors.field(key, "can't be blank")
    text = " ".join(raw.split())  # tabs, non-breaking spaces from copy-paste
    if len(text) > 32 or not _WRITTEN_NUMBER.fullmatch(text):
        raise InputErrors.field(key, "is not a valid phone number")
    candidates: list[tuple[str, str | None]] = []
    if text.startswith("+"):
        candidates.append((text, None))
    elif text.startswith("00"):
        candidates.append(("+" + text[2:], None))
    else:
        candidates.append(("+" + text, None))
        if default_region:
            candidates.append((text, default_region))
    for number, region in candidates:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    raise InputErrors.field(key, "is not a valid phone number")


def lookup_phone(raw: str, *, default_region: str = "") -> str:
    """The stored form to search for: normalised when it is a phone number, else as given."""
    if is_simulator_phone(raw):
        return raw
    try:
        return normalize_phone(raw, default_region=default_region)
    except InputErrors:
        return raw.strip()


def mask_phone(phone: str | None) -> str | None:
    """Glific's masked phone, what staff see: the first 4 characters, ******, the last 2."""
    if not phone:
        return phone
    return f"{phone[:4]}******{phone[-2:]}"
