"""How many SMS a text is sent (and billed) as.

A text in the GSM 03.38 alphabet fits 160 characters in one SMS, 153 per part when it needs
several (characters of the extension table, such as € or [, count twice). One character
outside it (many accented letters, emoji) makes the whole text UCS-2: 70 in one SMS, 67 per
part, counted in UTF-16 units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsSize:
    characters: int  # as the network counts them (GSM septets or UTF-16 units)
    parts: int
    outside: str = ""  # the characters outside GSM 03.38, each once: the text is UCS-2

    @property
    def unicode(self) -> bool:
        return bool(self.outside)


def sms_size(text: str) -> SmsSize:
    outside = "".join(
        dict.fromkeys(c for c in text if c not in GSM_BASIC and c not in GSM_EXTENSION)
    )
    if not outside:
        units = sum(2 if c in GSM_EXTENSION else 1 for c in text)
        return SmsSize(units, _parts(units, 160, 153))
    units = len(text.encode("utf-16-le")) // 2
    return SmsSize(units, _parts(units, 70, 67), outside)


def _parts(units: int, single: int, each: int) -> int:
    if units <= single:
        return 1
    return math.ceil(units / each)
