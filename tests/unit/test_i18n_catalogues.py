"""The message catalogues: complete, consistent, and compiled.

The compiled `.mo` files are committed (nothing compiles at install); these tests fail when a
`.po` file was edited without `pybabel compile -d booking_web/translations`, when a text in
the code or templates has no translation, or when a translation lost a placeholder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "booking_web" / "translations"
TRANSLATED = ("fr", "de", "it")  # English is the language of the messages themselves
LANGUAGES = (*TRANSLATED, "en")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

MessageId = str | tuple[str, ...]


def po_catalog(language: str) -> Catalog:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def mo_catalog(language: str) -> Catalog:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        return read_mo(mo)


def _key(value: str | tuple[str, ...] | list[str] | None) -> MessageId:
    return tuple(value) if isinstance(value, list | tuple) else value or ""


def translations(catalog: Catalog) -> dict[MessageId, MessageId]:
    """msgid -> msgstr (plural forms as tuples, as `.po` and `.mo` readers differ)."""
    return {_key(m.id): _key(m.string) for m in catalog if m.id and not m.fuzzy}


def used_messages() -> set[MessageId]:
    """Every message the code and the templates use, extracted as `pybabel extract` does."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found: set[MessageId] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found.add(message)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language: str) -> None:
    assert translations(mo_catalog(language)) == translations(po_catalog(language))


def test_the_check_notices_a_stale_compiled_catalogue() -> None:
    source = po_catalog("fr")
    compiled = mo_catalog("fr")
    compiled["Date"].string = "Jour"  # what an edit of the .po without compiling leaves
    assert translations(compiled) != translations(source)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_of_the_pages_is_translated(language: str) -> None:
    catalog = po_catalog(language)
    used = used_messages()
    assert len(used) > 100
    assert sorted(map(str, used - set(translations(catalog)))) == []
    untranslated = [
        m.id
        for m in catalog
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    assert untranslated == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalogue_keeps_texts_the_pages_no_longer_use(language: str) -> None:
    assert sorted(map(str, set(translations(po_catalog(language))) - used_messages())) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language: str) -> None:
    for message in po_catalog(language):
        if not message.id:
            continue
        ids = _key(message.id)
        strings = _key(message.string)
        ids = ids if isinstance(ids, tuple) else (ids,)
        strings = strings if isinstance(strings, tuple) else (strings,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (message.id, string)


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_texts_have_every_form_of_the_language(language: str) -> None:
    catalog = po_catalog(language)
    for message in catalog:
        if isinstance(message.id, tuple):
            assert isinstance(message.string, tuple)
            assert len(message.string) == catalog.num_plurals, message.id
