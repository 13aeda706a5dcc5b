"""Translation cluster: ParaCrawl EN/ES, WMT'14 EN/FR and WMT'16 EN/{CS, DE, FI, RO, RU, TR}.

The paper counts each language pair as ONE dataset covering both directions. Our rule: every
example yields the fields `english` and `foreign`; templates 0-4 ask for the foreign-language
text given the English one, templates 5-9 ask for the English text given the foreign one, so a
sampled template decides the direction and its target is always the other side of the pair.
The ten phrasings are shared by the eight pairs with the language's name written in. Asking for
the other direction is not a turned-around task, so no template here is marked turned around.

ParaCrawl has only a `train` split in TFDS: its first 10,000 examples are held out (validation
0-2,000, test 2,000-4,000; Fix Punctuation in `misc` evaluates on 4,000-8,000) and training
starts at 10,000. TFDS shuffles examples when it builds a dataset, so a prefix is a fair sample.
WMT'16 CS-EN and RU-EN include corpora that must be downloaded by hand (CzEng 1.6pre and the
Yandex corpus); the others download themselves.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION_TEST, manual_instructions, t, text,
                                        tfds_spec)
from flan_nb.templates import Template

# ParaCrawl slices: held-out prefixes first, then training data (see the module docstring).
PARACRAWL_SPLITS = {"train": "train[10000:]", "validation": "train[:2000]",
                    "test": "train[2000:4000]"}

# Templates 0-4: English -> <LANG>; 5-9: <LANG> -> English. `<LANG>` becomes a language name.
_PHRASINGS: tuple[tuple[str, str], ...] = (
    ("Translate the following English sentence into <LANG>.\n\n{english}", "{foreign}"),
    ("{english}\n\nHow would you say that in <LANG>?", "{foreign}"),
    ("Write a sentence in <LANG> that means the same as this English one: {english}",
     "{foreign}"),
    ("English: {english}\n<LANG>:", "{foreign}"),
    ('Here is some English text: "{english}" Give its <LANG> translation.', "{foreign}"),
    ("Translate this <LANG> text into English:\n\n{foreign}", "{english}"),
    ("{foreign}\n\nWhat does this mean in English?", "{english}"),
    ("I came across this <LANG> sentence: {foreign}\nPlease put it into plain English.",
     "{english}"),
    ("<LANG>: {foreign}\nEnglish:", "{english}"),
    ("Someone who only reads English wants to understand this <LANG> sentence. "
     "Translate it for them.\n{foreign}", "{english}"),
)

# code -> (language name, hand-written sentence pair for the spec's example features).
_LANGUAGES: dict[str, tuple[str, str, str]] = {
    "es": ("Spanish", "The museum opens at nine every morning.",
           "El museo abre a las nueve todas las mañanas."),
    "fr": ("French", "The committee approved the budget yesterday.",
           "Le comité a approuvé le budget hier."),
    "cs": ("Czech", "The train to Prague is late again.", "Vlak do Prahy má zase zpoždění."),
    "de": ("German", "We are meeting at the station tomorrow.",
           "Wir treffen uns morgen am Bahnhof."),
    "fi": ("Finnish", "The lake froze early this winter.",
           "Järvi jäätyi aikaisin tänä talvena."),
    "ro": ("Romanian", "The new bridge will be finished next year.",
           "Noul pod va fi terminat anul viitor."),
    "ru": ("Russian", "The library is closed on Sundays.",
           "Библиотека закрыта по воскресеньям."),
    "tr": ("Turkish", "The market is very crowded today.", "Pazar bugün çok kalabalık."),
}


def templates_for(language: str) -> tuple[Template, ...]:
    """The ten translation templates with `language` (e.g. "German") written in."""
    return tuple(t(inputs.replace("<LANG>", language), targets.replace("<LANG>", language))
                 for inputs, targets in _PHRASINGS)


def _pair_fields(code: str):
    """A `to_fields` for a TFDS Translation feature `{"en": ..., code: ...}`."""

    def to_fields(example: Mapping[str, Any]) -> dict | None:
        english, foreign = text(example["en"]), text(example[code])
        if not english or not foreign:  # a few crawled pairs have an empty side
            return None
        return {"english": english, "foreign": foreign}

    return to_fields


def _register(name: str, code: str, tfds_name: str, splits: Mapping[str, str],
              corpus: str, manual_download: str | None = None) -> None:
    language, english, foreign = _LANGUAGES[code]
    corpus_title = "ParaCrawl" if name.startswith("paracrawl") else f"WMT-{name[3:5]}"
    tfds_spec(
        name, "translation", title=f"{corpus_title} EN/{code.upper()}", tfds_name=tfds_name,
        kind="generation", metric="bleu",
        templates=templates_for(language), to_fields=_pair_fields(code), splits=splits,
        manual_download=manual_download, example={"en": english, code: foreign},
        description=(f"{corpus} English-{language} translation; templates 0-4 translate "
                     f"English to {language}, 5-9 {language} to English."),
    )


_register("paracrawl_en_es", "es", "para_crawl/enes:1.2.0", PARACRAWL_SPLITS,
          "ParaCrawl (web-crawled parallel text)")
_register("wmt14_en_fr", "fr", "wmt14_translate/fr-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'14 news")
_register("wmt16_en_cs", "cs", "wmt16_translate/cs-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'16 news",
          manual_download=manual_instructions(
              "http://ufal.mff.cuni.cz/czeng/czeng16pre",
              "czeng16pre.deduped-ignoring-sections.txt.gz (CzEng 1.6pre, free registration)"))
_register("wmt16_en_de", "de", "wmt16_translate/de-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'16 news")
_register("wmt16_en_fi", "fi", "wmt16_translate/fi-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'16 news")
_register("wmt16_en_ro", "ro", "wmt16_translate/ro-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'16 news")
_register("wmt16_en_ru", "ru", "wmt16_translate/ru-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'16 news",
          manual_download=manual_instructions(
              "https://translate.yandex.ru/corpus?lang=en",
              "1mcorpus.zip (the Yandex 1M English-Russian corpus)"))
_register("wmt16_en_tr", "tr", "wmt16_translate/tr-en:1.0.0", TRAIN_VALIDATION_TEST,
          "WMT'16 news")
