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
- ``package``: no weight read in an answer giving weight and package size ("250 gr 20x15x5 cm").
- ``size``: not a package size of three lengths (length x width x height) between 1 cm and 5 m.
- ``percent``: not a number between 0 and 100.
- ``pirt``: not a 15-17 digit P-IRT number.
- ``bpom``: not a BPOM MD/ML number.
- ``halal``: not a halal certificate number (ID + 10-20 digits).
- ``sni``: not an SNI number.
- ``yes_no``: neither yes nor no.
- ``unit``: not a sales unit.
- ``unit_price``: a price typed where the unit belongs ("Rp25k").
- ``price_range``: zero, negative or over Rp10 miliar.
- ``same_digits``: an identity number whose digits are all the same (00000..., 11111...).
- ``no_letters``: free text with no letter or digit (only emoji or punctuation).

Some answers are possible but unusual; those raise ``Unusual`` (a ``ValueError`` too) carrying the value,
so the conversation asks the person to confirm it: ``price_low`` (under Rp100), ``weight_zero``.
Errors may carry values for their message in ``exc.params`` (``too_long`` has ``max``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import lokal
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.id import npwp as stdnum_npwp

KEYS = frozenset({
    'too_short', 'too_long', 'nib', 'kbli', 'npwp', 'phone', 'email', 'price', 'price_approx', 'count',
    'weight', 'percent', 'pirt', 'bpom', 'halal', 'sni', 'yes_no', 'unit', 'unit_price', 'price_range',
    'same_digits', 'no_letters', 'package', 'size',
})
UNUSUAL_KEYS = frozenset({'price_low', 'weight_zero'})


class Invalid(ValueError):
    """``ValueError(key)`` that also carries values for its message, e.g. the length limit."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.params = params


class Unusual(ValueError):
    """A readable but unusual answer (``Rp50``): the person is asked to confirm ``value``."""

    def __init__(self, key: str, value: Any, **params: Any) -> None:
        super().__init__(key)
        self.value = value
        self.params = params


#: Longest input the structured (non free-text) validators look at; anything longer is rejected.
_MAX_FIELD = 100
_CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f]')
#: Invisible direction and width marks (which can make a name read differently from what is stored).
_BIDI = re.compile('[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]')
_SEPARATORS = re.compile(r'[\s.\-]+')
_DIGITS = re.compile(r'[0-9]+', re.ASCII)


def _clean(s: str) -> str:
    """Bidi and zero-width marks removed, control characters to spaces, whitespace collapsed and stripped."""
    return ' '.join(_CONTROL.sub(' ', _BIDI.sub('', s)).split())


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
            raise Invalid('too_long', max=max_len)
        c = unicodedata.normalize('NFC', _clean(s))
        if len(c) < min_len:
            raise Invalid('too_short', min=min_len)
        if len(c) > max_len:
            raise Invalid('too_long', max=max_len)
        if not any(ch.isalnum() for ch in c):
            raise ValueError('no_letters')
        return c

    return validate


def nib(s: str) -> str:
    """Nomor Induk Berusaha: 13 digits."""
    d = _digits(s, 'nib', 'nib')
    if len(d) != 13:
        raise ValueError('nib')
    _not_same_digits(d)
    return d


def _not_same_digits(d: str) -> None:
    """An identity number made of one repeated digit (0000000000000) is a placeholder, not a number."""
    if len(set(d)) == 1:
        raise ValueError('same_digits')


def kbli(s: str) -> str:
    """KBLI business classification code: 5 digits."""
    d = _digits(s, 'kbli', 'kbli')
    if len(d) != 5:
        raise ValueError('kbli')
    return d


def npwp(s: str) -> str:
    """NPWP: 15 digits, 16 digits starting with 0 (check digit verified), or a NIK -> the digits."""
    d = _digits(s, 'npwp', 'npwp')
    if len(d) in (15, 16):
        _not_same_digits(d)
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
_LOW_PRICE = 100


def _amount(c: str, key: str) -> lokal.ParsedRupiah | None:
    """lokal's reading of one amount ("25 000" is 25000); None when it is not one. Rejects negatives."""
    if _NEGATIVE.search(c):
        raise ValueError('price_range' if key == 'price' else key)
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
    if not 0 < parsed.amount <= _MAX_PRICE:
        raise ValueError('price_range')
    if not float(parsed.amount).is_integer():
        raise ValueError('price')
    if parsed.amount < _LOW_PRICE:
        raise Unusual('price_low', int(parsed.amount))
    return int(parsed.amount)


_WORDS_TAIL = re.compile(r'[a-z/ .]+')


def count(s: str) -> int:
    """A whole quantity ("1.000", "100 pcs", "500 per bulan", "2 rb") -> int."""
    c = re.sub(r'([0-9])([a-z])', r'\1 \2', _field(s, 'count').lower())
    c = ' '.join(c.replace('/', ' / ').split())  # "15rb/pcs": the unit after a slash is not part of the amount
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
    if grams == 0:
        raise Unusual('weight_zero', 0)
    if not Decimal('0.5') <= grams < Decimal('1000000.5'):
        raise ValueError('weight')
    return int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Package(tuple[int, tuple[int, int, int] | None]):
    """Weight in grams and, when given, the package size (length, width, height) in whole cm."""

    def __new__(cls, grams: int, size: tuple[int, int, int] | None) -> Package:
        return super().__new__(cls, (grams, size))


_LENGTH = r'([0-9]+(?:[.,][0-9]+)?)\s*(cm|mm|m)?\.?'
_TIMES = r'\s*[x×*]\s*'
#: Three lengths: "20x15x5", "20 x 15 x 5 cm", "20cm x 15cm x 5cm", "12,5 × 8 × 3".
_SIZE = re.compile(_LENGTH + _TIMES + _LENGTH + _TIMES + _LENGTH, re.ASCII | re.IGNORECASE)
_SIZE_WORDS = re.compile(r'\b(?:ukuran|kemasan|dimensi|size|p\s*x\s*l\s*x\s*t)\b\s*:?', re.IGNORECASE)
_WEIGHT_WORDS = re.compile(r'\b(?:berat(?:nya)?|weight|dan|and|sekitar)\b\s*:?', re.IGNORECASE)
_CM_PER_UNIT = {'cm': Decimal(1), 'mm': Decimal('0.1'), 'm': Decimal(100)}
_MAX_SIDE_CM = 500


def _size(m: re.Match[str]) -> tuple[int, int, int]:
    """The three lengths of a size match in whole cm (rounded up: a package fits in its size)."""
    units = [u.lower() for u in m.groups()[1::2] if u]
    unit = units[-1] if units else 'cm'
    sides = []
    for number, own in zip(m.groups()[0::2], m.groups()[1::2], strict=True):
        length = _decimal(number, True) * _CM_PER_UNIT[(own or unit).lower()]
        if not 0 < length <= _MAX_SIDE_CM:
            raise ValueError('size')
        sides.append(int(length.to_integral_value(rounding='ROUND_CEILING')))
    return sides[0], sides[1], sides[2]


def package_size(s: str) -> tuple[int, int, int]:
    """A package size ("20x15x5", "20 x 15 x 5 cm", "0,3 x 0,2 x 0,1 m") -> (length, width, height) in cm."""
    c = _SIZE_WORDS.sub(' ', _field(s, 'size')).strip(' ,;.')
    m = _SIZE.fullmatch(c)
    if not m:
        raise ValueError('size')
    return _size(m)


def package(s: str) -> Package:
    """Weight and, optionally, package size in one answer ("250 gr 20x15x5 cm", "0,5 kg, 30x20x10cm",
    "1 kg") -> Package(grams, size or None). The weight is read by ``weight_grams``."""
    c = _field(s, 'package')
    m = _SIZE.search(c)
    size = _size(m) if m else None
    rest = c[:m.start()] + ' ' + c[m.end():] if m else c
    rest = re.sub(r'[,;](?![0-9])', ' ', _WEIGHT_WORDS.sub(' ', _SIZE_WORDS.sub(' ', rest)))
    rest = ' '.join(rest.split()).strip(' ,;/')
    if not rest:
        raise ValueError('package' if size else 'weight')
    if m is None and re.search(r'[0-9]\s*[x×*]\s*[0-9]', rest):
        raise ValueError('size')  # "20x15": a size, but not of three lengths
    try:
        grams = weight_grams(rest)
    except Unusual as zero:
        raise Unusual(zero.args[0], 0) from None  # confirmed as the weight alone; the size is asked next
    except ValueError:
        raise ValueError('package' if size else 'weight') from None
    return Package(grams, size)


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


def pkp_status(s: str) -> str:
    """PKP status typed instead of tapped ("bukan pkp", "non-PKP", "ya", "belum") -> "pkp" or "non_pkp"."""
    c = re.sub(r'[^\w\s]|_', ' ', _field(s, 'yes_no').lower())
    words = [w for w in c.split() if w != 'pkp'] or ['ya']  # "pkp" alone is a yes
    if words[0] in {'non', 'bukan'}:
        return 'non_pkp'
    return 'pkp' if yes_no(' '.join(words)) else 'non_pkp'


def _looks_like_price(c: str) -> bool:
    """"Rp25k", "25rb", "15.000" typed as a unit: a price, said so instead of "unit not recognised"."""
    if not re.search(r'[0-9]', c) or re.fullmatch(r'[0-9]+\s*(?:g|gr|gram|kg|ml|l|ltr|liter)', c):
        return False
    try:
        amount = rupiah(c)
    except Unusual:
        amount = 0
    except ValueError:
        return False
    return amount >= 1000 or bool(re.search(r'rp|idr|rb|ribu|jt|juta|[0-9]\s*k\b', c))


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
        raise ValueError('unit_price' if _looks_like_price(c) else 'unit')
    return c
