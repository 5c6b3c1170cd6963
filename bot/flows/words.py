"""Words that work on every step, in both languages, checked before the step (whole message only)."""

GLOBAL_WORDS = {
    "start": ("/start", "start", "mulai", "halo", "hallo", "hai", "hi", "hello"),
    "menu": ("/menu", "menu"),
    "help": ("/bantuan", "/help", "bantuan", "help", "tolong"),
    "cancel": ("/batal", "/cancel", "batal", "cancel"),
    "back": ("/kembali", "/back", "kembali", "back"),
    "skip": ("/lewati", "/skip", "lewati", "skip"),
    "language": ("/bahasa", "/language", "bahasa", "language"),
    "products": ("/produk", "/products", "produk saya", "my products"),
    "whoami": ("/id", "id saya", "my id"),
    "stop_reminders": ("/berhenti", "/stop", "berhenti", "stop", "berhenti ingatkan", "stop reminders"),
    "stop_siaran": ("berhenti siaran", "stop siaran", "stop broadcast", "stop broadcasts"),
    "start_siaran": ("mulai siaran", "start broadcast", "start broadcasts"),
    "dashboard": ("/dasbor", "/dashboard", "dasbor", "dashboard"),  # officers: a sign-in link to the console
    "delete_draft": ("hapus draf", "hapus draft", "delete draft", "delete this draft"),
    "my_data": ("/data", "data saya", "my data"),
    "erase_data": ("/hapusdata", "hapus data", "hapus data saya", "delete my data"),
}
DONE_WORDS = ("selesai", "done", "sudah", "cukup", "ok", "oke")
CONSENT_WORDS = {
    "setuju": True, "saya setuju": True, "agree": True, "i agree": True,
    "tidak setuju": False, "saya tidak setuju": False, "disagree": False, "i don't agree": False,
}

_BY_WORD = {word: action for action, words in GLOBAL_WORDS.items() for word in words}
_TRAILING = ".,!?;:~ \t\n"


def normalized(text: str) -> str:
    """A whole message as a word to look up: "Kembali." and " batal! " read as "kembali" and "batal"."""
    return " ".join(text.casefold().split()).rstrip(_TRAILING)


def global_action(text: str) -> str | None:
    """The global action a whole message asks for ("Batal" -> "cancel"), or None."""
    return _BY_WORD.get(normalized(text))


def consent_word(text: str) -> bool | None:
    """"Setuju" -> True, "tidak setuju" -> False, anything else -> None (then read as yes/no)."""
    return CONSENT_WORDS.get(normalized(text))


def is_done_word(text: str) -> bool:
    return normalized(text) in DONE_WORDS
