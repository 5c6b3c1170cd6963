"""Which KBLI 2020 codes fit each product category, so a listing whose NIB's KBLI does not fit its
category (the catalogue's most common rejection) is caught in the chat.

Codes are matched by prefix: a 2-digit division, a 3-digit group or a 4-digit class of KBLI 2020
(BPS, Peraturan BPS No. 2/2020). Trading (46xx wholesale, 47xx retail) fits the goods it trades.
"""

from __future__ import annotations

#: category -> KBLI prefixes that fit it. A category missing here ("lainnya") accepts any code.
FITTING: dict[str, tuple[str, ...]] = {
    "makanan": ("101", "102", "103", "104", "105", "106", "1071", "1072", "1073", "1074", "1075", "1077",
                "1079", "4631", "4632", "4721", "4724", "5621"),
    "minuman": ("1076", "110", "4633", "4722"),
    "kerajinan": ("13", "15", "16", "17", "22", "23", "25", "32", "4649", "4773"),
    "pakaian": ("13", "14", "4641", "4771"),
    "alas_kaki": ("152", "4641", "4771"),
    "atk": ("17", "18", "2220", "3290", "4649", "4761"),
    "furnitur": ("16", "31", "4649", "4759"),
    "catering": ("56", "1075"),
    "pertanian": ("01", "02", "03", "4620", "4630", "4721"),
}

def fits(kbli: str | None, kategori: str | None) -> bool:
    """True when the code fits the category, or either is unknown (nothing to check)."""
    if not kbli or not kategori or kategori not in FITTING:
        return True
    return kbli.startswith(FITTING[kategori])


def categories_for(kbli: str) -> list[str]:
    """The categories a KBLI code fits, in the form's order."""
    return [k for k, prefixes in FITTING.items() if kbli.startswith(prefixes)]
