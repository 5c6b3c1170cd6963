"""Validators against the ways Indonesians actually type each field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import validators as v

# A realistic NIK: Kabupaten Bogor (32.01), kecamatan 01, born 15-08-1985, serial 0001.
NIK_NPWP = '3201011508850001'
# The same NIK for a woman (day + 40).
NIK_NPWP_FEMALE = '3201015508850002'

TEXT = v.text()

#: validator -> the keys it may raise.
KEYS: dict[Callable[[str], Any], set[str]] = {
    TEXT: {'too_short', 'too_long', 'no_letters'},
    v.text(1, 20): {'too_short', 'too_long', 'no_letters'},
    v.nib: {'nib', 'same_digits'},
    v.kbli: {'kbli'},
    v.npwp: {'npwp', 'same_digits'},
    v.phone: {'phone'},
    v.email: {'email'},
    v.rupiah: {'price', 'price_approx', 'price_range', 'price_low'},
    v.count: {'count'},
    v.weight_grams: {'weight', 'weight_zero'},
    v.package: {'package', 'size', 'weight', 'weight_zero'},
    v.package_size: {'size'},
    v.pkp_status: {'yes_no'},
    v.percent: {'percent'},
    v.pirt: {'pirt'},
    v.bpom: {'bpom'},
    v.halal: {'halal'},
    v.sni: {'sni'},
    v.yes_no: {'yes_no'},
    v.unit: {'unit', 'unit_price'},
}
VALIDATORS = list(KEYS)
IDS = [getattr(f, '__name__', 'text') for f in VALIDATORS]


def check(fn: Callable[[str], Any], raw: str, expected: Any) -> None:
    """``expected`` is the value, or ``ValueError('key')`` for a rejection."""
    if isinstance(expected, ValueError):
        with pytest.raises(ValueError) as exc:
            fn(raw)
        assert exc.value.args == expected.args
    else:
        result = fn(raw)
        assert result == expected
        assert type(result) is type(expected)


def err(key: str) -> ValueError:
    return ValueError(key)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('Keripik Singkong', 'Keripik Singkong'),
    ('  keripik   singkong \n pedas ', 'keripik singkong pedas'),
    ('Sambal\tBu Rudy', 'Sambal Bu Rudy'),
    ('Kue\x00 Lapis', 'Kue Lapis'),
    ('Kopi ☕ Gayo', 'Kopi ☕ Gayo'),
    ('Café', 'Café'),
    ('ab', 'ab'),
    ('a', err('too_short')),
    ('', err('too_short')),
    ('   \n\t ', err('too_short')),
    (' a ', err('too_short')),
    ('x' * 200, 'x' * 200),
    ('x' * 201, err('too_long')),
    ('x' * 100_000, err('too_long')),
    ('😀😀😀', err('no_letters')),
    ('!!! ...', err('no_letters')),
    ('Kue\u202e Lapis\u200f', 'Kue Lapis'),
    ('\u202eKeripik\u202c', 'Keripik'),
    ('\u2067Sambal\u2069 Roa', 'Sambal Roa'),
])
def test_text(raw: str, expected: Any) -> None:
    check(TEXT, raw, expected)


def test_length_errors_carry_the_limit() -> None:
    with pytest.raises(v.Invalid) as exc:
        v.text(3, 120)('x' * 121)
    assert exc.value.params == {'max': 120}
    with pytest.raises(v.Invalid) as exc:
        v.text(20, 2000)('pendek')
    assert exc.value.params == {'min': 20}


def test_unusual_answers_carry_their_value() -> None:
    with pytest.raises(v.Unusual) as exc:
        v.rupiah('Rp 50')
    assert exc.value.value == 50
    with pytest.raises(v.Unusual) as exc:
        v.weight_grams('0')
    assert exc.value.value == 0


def test_text_limits() -> None:
    short = v.text(min_len=5, max_len=10)
    assert short('abcde') == 'abcde'
    check(short, 'abcd', err('too_short'))
    check(short, 'abcdefghijk', err('too_long'))


@pytest.mark.parametrize(('raw', 'expected'), [
    ('1234567890123', '1234567890123'),
    ('9120001234567', '9120001234567'),
    (' 1234 5678 90123 ', '1234567890123'),
    ('1234-5678-90123', '1234567890123'),
    ('1.234.567.890.123', '1234567890123'),
    ('NIB: 1234567890123', '1234567890123'),
    ('nib 1234567890123', '1234567890123'),
    ('123456789012', err('nib')),
    ('12345678901234', err('nib')),
    ('12345678901a3', err('nib')),
    ('١٢٣٤٥٦٧٨٩٠١٢٣', err('nib')),
    ('', err('nib')),
    ('belum punya', err('nib')),
    ('0000000000000', err('same_digits')),
    ('1111 1111 11111', err('same_digits')),
])
def test_nib(raw: str, expected: Any) -> None:
    check(v.nib, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('47111', '47111'),
    ('10792', '10792'),
    (' 56103 ', '56103'),
    ('KBLI 10792', '10792'),
    ('kbli: 47111', '47111'),
    ('4711', err('kbli')),
    ('471111', err('kbli')),
    ('4711a', err('kbli')),
    ('warung makan', err('kbli')),
    ('', err('kbli')),
])
def test_kbli(raw: str, expected: Any) -> None:
    check(v.kbli, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('01.312.166.0-091.000', '013121660091000'),
    ('013121660091000', '013121660091000'),
    ('016090524017000', '016090524017000'),
    ('01 609 052 4 017 000', '016090524017000'),
    ('NPWP: 01.312.166.0-091.000', '013121660091000'),
    ('0016090524017000', '0016090524017000'),
    ('0013121660091000', '0013121660091000'),
    (NIK_NPWP, NIK_NPWP),
    ('3201.0115.0885.0001', NIK_NPWP),
    (NIK_NPWP_FEMALE, NIK_NPWP_FEMALE),
    ('01.312.166.1-091.000', err('npwp')),  # wrong check digit
    ('016090525017000', err('npwp')),
    ('0016090525017000', err('npwp')),
    ('3201013208850001', err('npwp')),  # day 32
    ('9901011508850001', err('npwp')),  # province 99
    ('3201011508850000', err('npwp')),  # serial 0000
    ('01312166009100', err('npwp')),
    ('01312166009100000', err('npwp')),
    ('01.312.166.0-091.00O', err('npwp')),
    ('000000000000000', err('same_digits')),
    ('00.000.000.0-000.000', err('same_digits')),
    ('9999999999999999', err('same_digits')),
    ('', err('npwp')),
])
def test_npwp(raw: str, expected: Any) -> None:
    check(v.npwp, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('081234567890', '+6281234567890'),
    ('0812-3456-7890', '+6281234567890'),
    ('0812 3456 7890', '+6281234567890'),
    ('+62 812 3456 7890', '+6281234567890'),
    ('+62 812-3456-7890', '+6281234567890'),
    ('+62812345678901', '+62812345678901'),
    ('6281234567890', '+6281234567890'),
    ('62 857 1234 5678', '+6285712345678'),
    ('+62 (0)812 3456 7890', '+6281234567890'),
    ('0895 1234 56789', '+62895123456789'),
    ('0881-2345-6789', '+6288123456789'),
    ('0838.1234.5678', '+6283812345678'),
    ('(021) 555-1234', err('phone')),  # landline
    ('021 7654321', err('phone')),
    ('+62 22 1234567', err('phone')),
    ('+1 415 555 1234', err('phone')),  # foreign
    ('+60 12-345 6789', err('phone')),
    ('+65 9123 4567', err('phone')),
    ('0812345', err('phone')),  # too short
    ('08123456789012345', err('phone')),  # too long
    ('0800 1234 5678', err('phone')),  # not a mobile prefix
    ('0812-3456-789O', err('phone')),
    ('wa saya sama', err('phone')),
    ('', err('phone')),
])
def test_phone(raw: str, expected: Any) -> None:
    check(v.phone, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('budi@gmail.com', 'budi@gmail.com'),
    (' budi.santoso@yahoo.co.id ', 'budi.santoso@yahoo.co.id'),
    ('Budi@GMAIL.COM', 'Budi@gmail.com'),
    ('toko_kue+order@umkm.desa.id', 'toko_kue+order@umkm.desa.id'),
    ('mailto:budi@gmail.com', 'budi@gmail.com'),
    ('budi@gmail', err('email')),
    ('budi.gmail.com', err('email')),
    ('budi @gmail.com', err('email')),
    ('budi@@gmail.com', err('email')),
    ('@gmail.com', err('email')),
    ('', err('email')),
    ('tidak punya', err('email')),
])
def test_email(raw: str, expected: Any) -> None:
    check(v.email, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('25rb', 25_000),
    ('25 rb', 25_000),
    ('25 ribu', 25_000),
    ('25RB', 25_000),
    ('Rp 25.000', 25_000),
    ('Rp25.000', 25_000),
    ('Rp. 25.000', 25_000),
    ('Rp25.000,-', 25_000),
    ('Rp 25.000,00', 25_000),
    ('IDR 25000', 25_000),
    ('25000', 25_000),
    ('25.000', 25_000),
    ('Rp 25 000', 25_000),
    ('25k', 25_000),
    ('1,5jt', 1_500_000),
    ('1.5 juta', 1_500_000),
    ('1jt 500rb', 1_500_000),
    ('Rp 1.500.000', 1_500_000),
    ('harga 15rb', 15_000),
    ('15rb aja', 15_000),
    ('Rp 12.500/pcs', 12_500),
    ('25rb per bungkus', 25_000),
    ('goceng', 5_000),
    ('dua puluh lima ribu', 25_000),
    ('500', 500),
    ('10 M', 10_000_000_000),
    ('2jtan', err('price_approx')),
    ('50rb-an', err('price_approx')),
    ('sekitar 50rb', err('price_approx')),
    ('kurang lebih 100rb', err('price_approx')),
    ('±30rb', err('price_approx')),
    ('20-25rb', err('price_approx')),
    ('20rb - 25rb', err('price_approx')),
    ('Rp 20.000 s/d Rp 25.000', err('price_approx')),
    ('20rb sampai 25rb', err('price_approx')),
    ('0', err('price_range')),
    ('Rp 0', err('price_range')),
    ('-5000', err('price_range')),
    ('Rp -5.000', err('price_range')),
    ('minus 5rb', err('price_range')),
    ('Rp 25.000,50', err('price')),
    ('11 M', err('price_range')),
    ('Rp 1.000.000.000.000', err('price_range')),
    ('20 miliar', err('price_range')),
    ('Rp 50', err('price_low')),
    ('Rp100', 100),
    ('25000 30000', err('price')),
    ('gratis', err('price')),
    ('tergantung', err('price')),
    ('rb', err('price')),
    ('', err('price')),
    ('9' * 400 + ' triliun', err('price')),
])
def test_rupiah(raw: str, expected: Any) -> None:
    check(v.rupiah, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('1000', 1000),
    ('1.000', 1000),
    ('1,000', 1000),
    ('1 000', 1000),
    ('100 pcs', 100),
    ('100pcs', 100),
    ('500 per bulan', 500),
    ('500 pcs/bulan', 500),
    ('2 rb', 2000),
    ('2rb', 2000),
    ('2 ribu bungkus', 2000),
    ('sekitar 300', 300),
    ('dua puluh', 20),
    ('1', 1),
    ('100.000.000', 100_000_000),
    ('100.000.001', err('count')),
    ('0', err('count')),
    ('-5', err('count')),
    ('1,5', err('count')),
    ('setengah', err('count')),
    ('banyak', err('count')),
    ('pcs 100', err('count')),
    ('15rb/pcs', 15_000),
    ('15 rb / pcs', 15_000),
    ('200/bulan', 200),
    ('', err('count')),
])
def test_count(raw: str, expected: Any) -> None:
    check(v.count, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('250', 250),
    ('250 gr', 250),
    ('250gr', 250),
    ('250g', 250),
    ('250 gram', 250),
    ('250 Gram', 250),
    ('250 gr.', 250),
    ('1.000 gr', 1000),
    ('1 kg', 1000),
    ('1kg', 1000),
    ('1,5 kg', 1500),
    ('1.5 kg', 1500),
    ('0.5kg', 500),
    ('0,25 kg', 250),
    ('0.500 kg', 500),
    ('2 kilo', 2000),
    ('1 ons', 100),
    ('2,5 ons', 250),
    ('1000 kg', 1_000_000),
    ('1001 kg', err('weight')),
    ('1.500 kg', err('weight')),  # 1500 kg: too heavy, ask again
    ('0', err('weight_zero')),
    ('0 gr', err('weight_zero')),
    ('0,4 g', err('weight')),
    ('2 ton', err('weight')),
    ('250 ml', err('weight')),
    ('-250 gr', err('weight')),
    ('berat', err('weight')),
    ('kg', err('weight')),
    ('', err('weight')),
])
def test_weight_grams(raw: str, expected: Any) -> None:
    check(v.weight_grams, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('40', 40.0),
    ('40%', 40.0),
    ('40 %', 40.0),
    ('40,5 %', 40.5),
    ('40.5%', 40.5),
    ('40 persen', 40.0),
    ('0', 0.0),
    ('0%', 0.0),
    ('100', 100.0),
    ('100,0%', 100.0),
    ('100,5', err('percent')),
    ('101%', err('percent')),
    ('-5%', err('percent')),
    ('%', err('percent')),
    ('setengah', err('percent')),
    ('', err('percent')),
])
def test_percent(raw: str, expected: Any) -> None:
    check(v.percent, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('206327101049725', '206327101049725'),
    ('P-IRT No. 2063271010497-25', '206327101049725'),
    ('PIRT 206327101049725', '206327101049725'),
    ('P-IRT: 2.06.3271.01.0497-25', '206327101049725'),
    ('pirt no 2063271010497-26', '206327101049726'),
    ('P-IRT 20632710104972526', '20632710104972526'),
    ('P-IRT 2063271010497', err('pirt')),
    ('P-IRT 206327101049725261', err('pirt')),
    ('P-IRT 2063271010497-2A', err('pirt')),
    ('P-IRT', err('pirt')),
    ('', err('pirt')),
])
def test_pirt(raw: str, expected: Any) -> None:
    check(v.pirt, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('MD 123456789012', 'MD123456789012'),
    ('MD123456789012', 'MD123456789012'),
    ('md 123456789012', 'MD123456789012'),
    ('BPOM RI MD 234567890123', 'MD234567890123'),
    ('BPOM MD 2345 6789 0123', 'MD234567890123'),
    ('ML 123456789012', 'ML123456789012'),
    ('ml123456789012', 'ML123456789012'),
    ('BPOM RI ML 123456789012', 'ML123456789012'),
    ('MD 12345678901', err('bpom')),
    ('MD 1234567890123', err('bpom')),
    ('MX 123456789012', err('bpom')),
    ('123456789012', err('bpom')),
    ('P-IRT 206327101049725', err('bpom')),
    ('', err('bpom')),
])
def test_bpom(raw: str, expected: Any) -> None:
    check(v.bpom, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('ID32110000123450321', 'ID32110000123450321'),
    ('id32110000123450321', 'ID32110000123450321'),
    ('ID 3211 0000 1234 5032 1', 'ID32110000123450321'),
    ('ID1234567890', 'ID1234567890'),
    ('ID12345678901234567890', 'ID12345678901234567890'),
    ('ID123456789', err('halal')),
    ('ID123456789012345678901', err('halal')),
    ('32110000123450321', err('halal')),
    ('MUI 32110000123450321', err('halal')),
    ('ID3211000012345032X', err('halal')),
    ('', err('halal')),
])
def test_halal(raw: str, expected: Any) -> None:
    check(v.halal, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    ('SNI 01-2891-1992', 'SNI 01-2891-1992'),
    ('SNI 3547.1:2008', 'SNI 3547.1:2008'),
    ('sni 8881:2020', 'SNI 8881:2020'),
    ('SNI01-2891-1992', 'SNI 01-2891-1992'),
    ('SNI  01 - 2891 - 1992', 'SNI 01-2891-1992'),
    ('SNI: 8881:2020', 'SNI 8881:2020'),
    ('01-2891-1992', 'SNI 01-2891-1992'),
    ('SNI ISO 22000:2018', 'SNI ISO 22000:2018'),
    ('SNI', err('sni')),
    ('sni belum', err('sni')),
    ('SNI 01-2891-', err('sni')),
    ('', err('sni')),
])
def test_sni(raw: str, expected: Any) -> None:
    check(v.sni, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    *[(w, True) for w in ('ya', 'Ya', 'YA', 'y', 'yes', 'iya', 'iy', 'betul', 'benar', 'ok', 'OK', 'oke')],
    *[(w, False) for w in ('tidak', 'Tidak', 'tdk', 'no', 'n', 'nggak', 'ngga', 'gak', 'ga', 'bukan')],
    ('ya!', True),
    ('iya kak', True),
    ('Iya, sudah', True),
    ('sudah', True),
    ('ok 👍', True),
    ('tidak ada', False),
    ('gak kak', False),
    ('belum punya', False),
    ('Tidak.', False),
    ('ya tidak', err('yes_no')),
    ('mungkin', err('yes_no')),
    ('tidak tahu', err('yes_no')),
    ('yaa', err('yes_no')),
    ('', err('yes_no')),
])
def test_yes_no(raw: str, expected: Any) -> None:
    check(v.yes_no, raw, expected)


@pytest.mark.parametrize(('raw', 'expected'), [
    *[(u, u) for u in ('pcs', 'kg', 'gram', 'liter', 'paket', 'box', 'lusin', 'kodi', 'porsi')],
    *[(u, 'pcs') for u in ('buah', 'biji', 'pc', 'pieces', 'PCS', 'Buah')],
    *[(u, 'kg') for u in ('kilo', 'kilogram', 'Kg')],
    *[(u, 'gram') for u in ('gr', 'g')],
    *[(u, 'liter') for u in ('l', 'ltr', 'Liter')],
    *[(u, 'paket') for u in ('pak', 'pack')],
    *[(u, 'box') for u in ('dus', 'kotak')],
    ('per kg', 'kg'),
    ('/pcs', 'pcs'),
    ('pcs.', 'pcs'),
    ('botol', 'botol'),
    ('Lembar', 'lembar'),
    ('ikat', 'ikat'),
    ('toples  kaca', 'toples kaca'),
    ('x', err('unit')),
    ('12', err('unit')),
    ('250 gr', err('unit')),
    ('a' * 21, err('unit')),
    ('bo-tol', err('unit')),
    ('Rp25k', err('unit_price')),
    ('25rb', err('unit_price')),
    ('Rp 15.000', err('unit_price')),
    ('', err('unit')),
])
def test_unit(raw: str, expected: Any) -> None:
    check(v.unit, raw, expected)


def test_module_documents_every_key() -> None:
    documented = set().union(*KEYS.values())
    assert documented == v.KEYS | v.UNUSUAL_KEYS
    for key in v.KEYS:
        assert f'``{key}``' in (v.__doc__ or '')


HUGE = ['a' * 100_000, '1' * 100_000, ' ' * 100_000, '9' * 100_000 + ' triliun', '1.' * 50_000,
        'ya ' * 33_000, '@' * 100_000, '\x00' * 100_000, '\u202e' * 100_000, 'ID' + '1' * 99_998]


@pytest.mark.parametrize('fn', VALIDATORS, ids=IDS)
@pytest.mark.parametrize('raw', HUGE, ids=range(len(HUGE)))
def test_huge_input_is_rejected(fn: Callable[[str], Any], raw: str) -> None:
    """(How fast: benchmarks, not here; a regex that backtracks without end would hang this test.)"""
    with pytest.raises(ValueError) as exc:
        fn(raw)
    assert exc.value.args[0] in KEYS[fn]


DOMAIN = st.text(alphabet='0123456789 .,-+%/:()RrpPbBjJtTkKgGmMnoOsSiIDdLlaAuyYe\t\n±~@', max_size=40)


@pytest.mark.parametrize('fn', VALIDATORS, ids=IDS)
@settings(max_examples=200, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(st.text(), DOMAIN))
def test_only_value_error_with_known_key(fn: Callable[[str], Any], raw: str) -> None:
    try:
        fn(raw)
    except ValueError as exc:
        assert len(exc.args) == 1
        assert exc.args[0] in KEYS[fn]


@pytest.mark.parametrize('raw,expected', [
    ('250 gr 20x15x5 cm', (250, (20, 15, 5))),
    ('250g, 20 x 15 x 5', (250, (20, 15, 5))),
    ('0,5 kg 30x20x10cm', (500, (30, 20, 10))),
    ('1 kg', (1000, None)),  # the weight alone: the size is asked next
    ('250 gram', (250, None)),
    ('berat 250 gr, ukuran 20x15x5 cm', (250, (20, 15, 5))),
    ('20x15x5 cm 250 gr', (250, (20, 15, 5))),
    ('1,5 kg 12,5 x 8 x 3', (1500, (13, 8, 3))),  # a side is rounded up: the package fits
    ('250gr 20*15*5', (250, (20, 15, 5))),
    ('1.000 gr, 40cm x 30cm x 20cm', (1000, (40, 30, 20))),
    ('500 gr 2 x 1 x 0,5 m', (500, (200, 100, 50))),
    ('250 gram dan 20 × 15 × 5', (250, (20, 15, 5))),
    ('20x15x5 cm', ValueError('package')),  # the size without the weight
    ('abc 20x15x5', ValueError('package')),
    ('250 gr 0x15x5', ValueError('size')),
    ('250 gr 20x15', ValueError('size')),
    ('250 gr 600x10x10', ValueError('size')),
    ('-250 gr', ValueError('weight')),
    ('dua ratus', ValueError('weight')),
])
def test_package(raw: str, expected: Any) -> None:
    check(lambda s: tuple(v.package(s)), raw, expected)


def test_package_zero_weight_is_confirmed_as_the_weight_alone() -> None:
    with pytest.raises(v.Unusual) as exc:
        v.package('0 gr 20x15x5')
    assert exc.value.value == 0


@pytest.mark.parametrize('raw,expected', [
    ('20x15x5', (20, 15, 5)),
    ('20 x 15 x 5 cm', (20, 15, 5)),
    ('ukuran 30x20x10cm', (30, 20, 10)),
    ('200 x 150 x 50 mm', (20, 15, 5)),
    ('20x15', ValueError('size')),
    ('0x1x1', ValueError('size')),
    ('-20x15x5', ValueError('size')),
    ('600x10x10', ValueError('size')),
])
def test_package_size(raw: str, expected: Any) -> None:
    check(v.package_size, raw, expected)


@pytest.mark.parametrize('raw,expected', [
    ('bukan pkp', 'non_pkp'), ('non-PKP', 'non_pkp'), ('belum', 'non_pkp'), ('tidak', 'non_pkp'),
    ('PKP', 'pkp'), ('ya', 'pkp'), ('sudah pkp', 'pkp'), ('mungkin', ValueError('yes_no')),
])
def test_pkp_status(raw: str, expected: Any) -> None:
    check(v.pkp_status, raw, expected)
