"""The business profile, asked once per owner."""

from bot import validators as v
from bot.flows.base import Form, Step

SKALA = {"mikro": "mikro", "kecil": "kecil", "menengah": "menengah"}

BUSINESS = Form("business", (
    Step("nama_usaha", parse=v.text(2, 100)),
    Step("nama_pemilik", parse=v.text(3, 100)),
    Step("nib", parse=v.nib),
    Step("kbli", parse=v.kbli, optional=True),
    Step("npwp", parse=v.npwp),
    Step("skala", kind="choice", options=SKALA),
    Step("region_code", kind="region"),
    Step("alamat", parse=v.text(10, 300)),
    Step("phone", kind="phone", parse=v.phone),
    Step("email", parse=v.email, optional=True, in_sequence=False),
))
