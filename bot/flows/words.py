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
    "dashboard": ("/dasbor", "/dashboard", "dasbor", "dashboard"),  # officers: a sign-in link to the console
}
DONE_WORDS = ("selesai", "done", "sudah", "cukup", "ok", "oke")
CONSENT_WORDS = {
    "setuju": True, "saya setuju": True, "agree": True, "i agree": True,
    "tidak setuju": False, "saya tidak setuju": False, "disagree": False, "i don't agree": False,
}

_BY_WORD = {word: action for action, words in GLOBAL_WORDS.items() for word in words}


def global_action(text: str) -> str | None:
    """The global action a whole message asks for ("Batal" -> "cancel"), or None."""
    return _BY_WORD.get(" ".join(text.casefold().split()))


def consent_word(text: str) -> bool | None:
    """"Setuju" -> True, "tidak setuju" -> False, anything else -> None (then read as yes/no)."""
    return CONSENT_WORDS.get(" ".join(text.casefold().split()))


def is_done_word(text: str) -> bool:
    return " ".join(text.casefold().split()) in DONE_WORDS
