"""Validators for what UMKM owners type into the chat: each is ``str -> value`` or raises ``ValueError(key)``.

Message keys (``exc.args[0]``):

- ``too_short``, ``too_long``: free text outside the allowed length (``text``).
- ``nib``: not a 13-digit Nomor Induk Berusaha.
- ``kbli``: not a 5-digit KBLI code.
- ``npwp``: not a valid 15/16-digit NPWP.
- ``phone``: not an Indonesian mobile number.
- ``email``: not a valid e-mail address.
- ``price``: not a whole Rupiah amount between 1 and 10 miliar.
- ``price_approx``: an approximate amount or a range ("2jtan", "sekitar 50rb", "20-25rb").
- ``count``: not a whole number between 1 and 100 juta.
- ``weight``: not a weight between 1 g and 1 ton.
- ``percent``: not a number between 0 and 100.
- ``pirt``: not a 15-17 digit P-IRT number.
- ``bpom``: not a BPOM MD/ML number.
- ``halal``: not a halal certificate number (ID + 10-20 digits).
- ``sni``: not an SNI number.
- ``yes_no``: neither yes nor no.
- ``unit``: not a sales unit.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import lokal
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.id import npwp as stdnum_npwp

KEYS = frozenset({
    'too_short', 'too_long', 'nib', 'kbli', 'npwp', 'phone', 'email', 'price', 'price_approx', 'count',
    'weight', 'percent', 'pirt', 'bpom', 'halal', 'sni', 'yes_no', 'unit',
})

#: Longest input the structured (non free-text) validators look at; anything longer is rejected.
_MAX_FIELD = 100
_CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f]')
_SEPARATORS = re.compile(r'[\s.\-]+')
_DIGITS = re.compile(r'[0-9]+', re.ASCII)


def _clean(s: str) -> str:
    """Control characters to spaces, whitespace collapsed and stripped."""
    return ' '.join(_CONTROL.sub(' ', s).split())


def _field(s: str, key: str) -> str:
    """Cleaned short input, or ValueError(key) when empty, too long, or with digits other than 0-9 ("1½", "٢٥")."""
    if len(s) > 4 * _MAX_FIELD:
        raise ValueError(key)
    c = _clean(s)
    if not c or len(c) > _MAX_FIELD or any(unicodedata.category(ch) in ('Nd', 'No') for ch in c if ch > '\x7f'):
        raise ValueError(key)
    return c


def _digits(s: str, key: str, prefix: str = '') -> str:
    """The digits of ``s`` once an optional prefix word and separators are removed."""
    c = _field(s, key)
    if prefix:
        c = re.sub(rf'^(?:{prefix})\b\s*:?', '', c, flags=re.IGNORECASE)
    d = _SEPARATORS.sub('', c)
    if not _DIGITS.fullmatch(d):
        raise ValueError(key)
    return d


def text(min_len: int = 2, max_len: int = 200) -> Callable[[str], str]:
    """Validator for free text between ``min_len`` and ``max_len`` characters."""

    def validate(s: str) -> str:
        if len(s) > 4 * max_len + 100:
            raise ValueError('too_long')
        c = unicodedata.normalize('NFC', _clean(s))
        if len(c) < min_len:
            raise ValueError('too_short')
        if len(c) > max_len:
            raise ValueError('too_long')
        return c

    return validate


def nib(s: str) -> str:
    """Nomor Induk Berusaha: 13 digits."""
    d = _digits(s, 'nib', 'nib')
    if len(d) != 13:
        raise ValueError('nib')
    return d


def kbli(s: str) -> str:
    """KBLI business classification code: 5 digits."""
    d = _digits(s, 'kbli', 'kbli')
    if len(d) != 5:
        raise ValueError('kbli')
    return d


def npwp(s: str) -> str:
    """NPWP: 15 digits, 16 digits starting with 0 (check digit verified), or a NIK -> the digits."""
    d = _digits(s, 'npwp', 'npwp')
    if len(d) == 15 or (len(d) == 16 and d.startswith('0')):
        ok = stdnum_npwp.is_valid(d)
    else:
        ok = len(d) == 16 and lokal.parse_npwp(d).valid
    if not ok:
        raise ValueError('npwp')
    return d


_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def phone(s: str) -> str:
    """Indonesian mobile number (08.., 628.., +62 8..) -> E.164 "+628..."."""
    info = lokal.parse_phone(_field(s, 'phone'))
    if not info.valid or info.type != 'mobile' or not info.e164:
        raise ValueError('phone')
    try:
        number = phonenumbers.parse(info.e164, None)
    except phonenumbers.NumberParseException:
        raise ValueError('phone') from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValueError('phone')
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(s: str) -> str:
    """E-mail address, normalized (domain lowercased); deliverability is not checked."""
    c = _field(s, 'email').removeprefix('mailto:')
    try:
        return validate_email(c, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError('email') from None


_RANGE = re.compile(r'[0-9]\s*(?:[a-z]+\s*)?(?:-|–|s/d|sampai|hingga|atau)\s*(?:rp\.?\s*)?[0-9]', re.IGNORECASE)
_NEGATIVE = re.compile(r'(?:^|\s)(?:rp\.?\s*)?[-−]\s*(?:rp\.?\s*)?[0-9]|\bminus\b', re.IGNORECASE)
_PER_UNIT = re.compile(r'\s*(?:/|\bper\b)\s*[^0-9/]*$', re.IGNORECASE)
_SPACE_THOUSANDS = re.compile(r'(?<=[0-9]) (?=[0-9]{3}(?![0-9]))')
_TWO_NUMBERS = re.compile(r'[0-9][,;]?\s+[0-9]')
_MAX_PRICE = 10_000_000_000


def _amount(c: str, key: str) -> lokal.ParsedRupiah | None:
    """lokal's reading of one amount ("25 000" is 25000); None when it is not one. Rejects negatives."""
    if _NEGATIVE.search(c):
        raise ValueError(key)
    c = _SPACE_THOUSANDS.sub('', c)
    if _TWO_NUMBERS.search(c):
        return None
    try:
        parsed = lokal.parse_rupiah(c)
    except (ArithmeticError, ValueError):
        return None
    if parsed is None or not math.isfinite(parsed.amount):
        return None
    return parsed


def rupiah(s: str) -> int:
    """A price as people write it ("25rb", "Rp 25.000", "1,5jt") -> whole Rupiah."""
    c = _field(s, 'price')
    if _RANGE.search(c):
        raise ValueError('price_approx')
    c = _PER_UNIT.sub('', c) or c
    parsed = _amount(c, 'price')
    if parsed is None:
        raise ValueError('price')
    if parsed.approximate:
        raise ValueError('price_approx')
    if not float(parsed.amount).is_integer() or not 0 < parsed.amount <= _MAX_PRICE:
        raise ValueError('price')
    return int(parsed.amount)


_WORDS_TAIL = re.compile(r'[a-z/ .]+')


def count(s: str) -> int:
    """A whole quantity ("1.000", "100 pcs", "500 per bulan", "2 rb") -> int."""
    c = re.sub(r'([0-9])([a-z])', r'\1 \2', _field(s, 'count').lower())
    words = c.split(' ')
    for end in range(len(words), 0, -1):
        tail = ' '.join(words[end:])
        if tail and not _WORDS_TAIL.fullmatch(tail):
            break
        parsed = _amount(' '.join(words[:end]), 'count')
        if parsed is not None:
            n = parsed.amount
            if not float(n).is_integer() or not 1 <= n <= 100_000_000:
                raise ValueError('count')
            return int(n)
    raise ValueError('count')


_NUMBER_UNIT = re.compile(r'([0-9]+(?:[.,][0-9]+)*)\s*([a-z]*)\.?', re.ASCII)
_GRAMS_PER_UNIT = {
    '': 1, 'g': 1, 'gr': 1, 'grm': 1, 'gram': 1, 'grams': 1,
    'kg': 1000, 'kgs': 1000, 'kilo': 1000, 'kilogram': 1000, 'ons': 100,
}


def _decimal(tok: str, comma_decimal: bool) -> Decimal:
    """Indonesian number: "1.500" is fifteen hundred, "1,5" one and a half; "0.5" a half."""
    dots, commas = tok.count('.'), tok.count(',')
    if dots and commas:
        dec = ',' if tok.rfind(',') > tok.rfind('.') else '.'
        tok = tok.replace('.' if dec == ',' else ',', '').replace(dec, '.')
    elif dots + commas > 1:
        tok = tok.replace('.', '').replace(',', '')
    elif dots + commas == 1:
        head, _, tail = tok.replace(',', '.').partition('.')
        thousands = len(tail) == 3 and head != '0' and not (comma_decimal and commas)
        tok = head + tail if thousands else f'{head}.{tail}'
    return Decimal(tok)


def weight_grams(s: str) -> int:
    """A weight ("250 gr", "1,5 kg", "1 ons") -> whole grams."""
    m = _NUMBER_UNIT.fullmatch(_field(s, 'weight').lower())
    if not m or m.group(2) not in _GRAMS_PER_UNIT:
        raise ValueError('weight')
    per_unit = _GRAMS_PER_UNIT[m.group(2)]
    grams = _decimal(m.group(1), per_unit > 1) * per_unit
    if not Decimal('0.5') <= grams < Decimal('1000000.5'):
        raise ValueError('weight')
    return int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))


_PERCENT = re.compile(r'([0-9]{1,3}(?:[.,][0-9]{1,4})?)\s*(?:%|persen)?', re.ASCII)


def percent(s: str) -> float:
    """A percentage ("40", "40%", "40,5 %") -> float in 0..100."""
    m = _PERCENT.fullmatch(_field(s, 'percent').lower())
    if not m:
        raise ValueError('percent')
    p = float(m.group(1).replace(',', '.'))
    if p > 100:
        raise ValueError('percent')
    return p


def pirt(s: str) -> str:
    """P-IRT (home industry food permit) number: 15-17 digits."""
    c = re.sub(r'\bp\s*-?\s*irt\b|\bno(?:mor)?\b|:', ' ', _field(s, 'pirt'), flags=re.IGNORECASE)
    d = _SEPARATORS.sub('', c)
    if not _DIGITS.fullmatch(d) or not 15 <= len(d) <= 17:
        raise ValueError('pirt')
    return d


_BPOM = re.compile(r'(MD|ML)([0-9]{12})', re.ASCII)


def bpom(s: str) -> str:
    """BPOM registration number: MD or ML + 12 digits -> "MD123456789012"."""
    c = re.sub(r'\b(?:BPOM|POM|RI|NO|NOMOR)\b|[\s.:\-]', '', _field(s, 'bpom').upper())
    m = _BPOM.fullmatch(c)
    if not m:
        raise ValueError('bpom')
    return m.group(1) + m.group(2)


_HALAL = re.compile(r'ID[0-9]{10,20}', re.ASCII)


def halal(s: str) -> str:
    """Halal certificate number: ID + 10-20 digits -> uppercase without spaces."""
    c = re.sub(r'\s', '', _field(s, 'halal').upper())
    if not _HALAL.fullmatch(c):
        raise ValueError('halal')
    return c


_SNI = re.compile(r'(?:SNI\s*:?\s*)?((?:ISO/IEC|ISO|IEC)\s*)?([0-9](?:[0-9 .:/\-]*[0-9])?)', re.ASCII)


def sni(s: str) -> str:
    """SNI standard number ("sni 3547.1:2008") -> "SNI 3547.1:2008"."""
    m = _SNI.fullmatch(_field(s, 'sni').upper())
    if not m:
        raise ValueError('sni')
    body = re.sub(r'\s*([.:/\-])\s*', r'\1', m.group(2))
    return ' '.join(filter(None, ('SNI', (m.group(1) or '').strip(), body)))


_YES = {'ya', 'y', 'yes', 'iya', 'iy', 'betul', 'benar', 'ok', 'oke', 'okay', 'sudah', 'udah', 'ada', 'punya'}
_NO = {'tidak', 'tdk', 'no', 'n', 'nggak', 'ngga', 'gak', 'ga', 'enggak', 'engga', 'bukan', 'belum', 'blm'}
#: Words that may follow the answer without changing it: "ya kak", "tidak ada", "belum punya".
_YES_NO_FILLERS = {'kak', 'ka', 'pak', 'bu', 'bang', 'mas', 'mbak', 'min', 'dong', 'sih', 'deh', 'aja', 'saja',
                   'sudah', 'udah', 'ada', 'punya', 'betul', 'benar'}


def yes_no(s: str) -> bool:
    """Yes/no answer ("ya", "iya kak", "tidak", "belum punya") -> bool."""
    words = re.sub(r'[^\w\s]', ' ', _field(s, 'yes_no').lower()).split()
    if not words or not set(words[1:]) <= _YES_NO_FILLERS:
        raise ValueError('yes_no')
    if words[0] in _YES:
        return True
    if words[0] in _NO:
        return False
    raise ValueError('yes_no')


UNITS = ('pcs', 'kg', 'gram', 'liter', 'paket', 'box', 'lusin', 'kodi', 'porsi')
_UNIT_SYNONYMS = {
    **{u: u for u in UNITS},
    'buah': 'pcs', 'biji': 'pcs', 'pc': 'pcs', 'pieces': 'pcs', 'piece': 'pcs',
    'kilo': 'kg', 'kilogram': 'kg', 'gr': 'gram', 'g': 'gram',
    'l': 'liter', 'ltr': 'liter', 'litre': 'liter', 'pak': 'paket', 'pack': 'paket',
    'dus': 'box', 'kotak': 'box',
}
_FREE_UNIT = re.compile(r'[a-z]+(?: [a-z]+)*', re.ASCII)


def unit(s: str) -> str:
    """Sales unit: a known key (synonyms mapped) or a free 2-20 letter word such as "botol"."""
    c = re.sub(r'^(?:per\b|/)\s*', '', _field(s, 'unit').lower()).rstrip('.')
    if c in _UNIT_SYNONYMS:
        return _UNIT_SYNONYMS[c]
    if not 2 <= len(c) <= 20 or not _FREE_UNIT.fullmatch(c):
        raise ValueError('unit')
    return c
