"""The business profile, asked once per owner."""

from bot.domain import validators as v
from bot.flows.base import Answers, Form, Step

SKALA = {"mikro": "mikro", "kecil": "kecil", "menengah": "menengah"}
BENTUK_USAHA = {key: key for key in ("perorangan", "cv", "pt", "koperasi")}
BADAN_USAHA = {"cv", "pt", "koperasi"}  # legal entities, founded by an akta pendirian
PKP = {"pkp": "pkp", "non_pkp": "non_pkp"}
INAPROC_AKUN = {key: key for key in ("sudah", "belum", "tidak_tahu")}


def badan_usaha(a: Answers) -> bool:
    return a.get("bentuk_usaha") in BADAN_USAHA


BUSINESS = Form("business", (
    Step("nama_usaha", parse=v.text(2, 100)),
    Step("nama_pemilik", parse=v.text(3, 100)),
    # Katalog v6 (INAPROC) wants the legal form, and for a badan usaha its akta pendirian.
    Step("bentuk_usaha", kind="choice", options=BENTUK_USAHA, upload=True),
    Step("akta", parse=v.text(3, 200), optional=True, when=badan_usaha, depends=("bentuk_usaha",), upload=True),
    Step("nib", parse=v.nib),
    Step("kbli", parse=v.kbli, optional=True),
    Step("npwp", parse=v.npwp),
    # PKP status decides whether product prices include PPN.
    Step("pkp", kind="choice", options=PKP, parse=v.pkp_status, upload=True),
    Step("skala", kind="choice", options=SKALA),
    Step("region_code", kind="region"),
    Step("alamat", parse=v.text(10, 300)),
    Step("phone", kind="phone", parse=v.phone),
    # Asked when the upload kit is opened, after approval (not on the way through the profile: the first
    # product's budget of owner messages), and changeable from the profile: the email only when there is
    # no INAPROC account yet (INAPROC sends its verification there).
    Step("inaproc_akun", kind="choice", options=INAPROC_AKUN, optional=True, in_sequence=False, upload=True),
    Step("email", parse=v.email, optional=True, in_sequence=False, upload=True),
))
