"""Near-duplicate detection across accounts: MinHash sketches (``datasketch``) in a sliding window.

A message becomes a set of features: character bigrams of its folded text (links taken out) plus
one ``link:domain/path`` feature per link, so a spammer who varies the words around one target
still shares the link, and two messages about different targets do not. MinHash estimates the
Jaccard similarity of two such sets in constant time; an LSH index (``MinHashLSH``) finds the
candidates, so one message costs one sketch and one index query however full the window is.

``datasketch`` is imported on first use, not with this module: its package imports SciPy (for
the LSH's parameter search), about a second of start-up the first answer must not wait for
(issue 21). A running bot warms it in a worker thread after start (``warm``); on the virtual
clock (console, tests) the first message that needs a sketch pays.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.parsed import ParsedMessage
from handlers.antispam import detect
from handlers.antispam.detect import cut_links, message_link_spans, without_links

if TYPE_CHECKING:
    from datasketch import LeanMinHash, MinHashLSH

#: Sketch size: 64 permutations estimate Jaccard within about ±0.06 (1/√64 / 2), enough to tell
#: a variation of one spam (≈ 0.6–1.0) from unrelated chat (≈ 0–0.2), at ~30 µs per message.
NUM_PERM = 64
#: The LSH index finds candidates from this similarity on; the group's threshold then decides.
_INDEX_THRESHOLD = 0.4
#: Messages of one cluster kept for removal with the one that tips it into a wave.
PENDING_MAX = 500
#: The window never holds more than this many messages, whatever the traffic (memory bound).
MAX_WINDOW = 50_000


@functools.cache
def _permutations() -> Any:
    """The sketches' shared permutations (and the first import of ``datasketch``)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations


def warm() -> None:
    """Import ``datasketch`` and load the Public Suffix List now (from a worker thread after
    start): otherwise the first message with a link pays both, over a second."""
    _permutations()
    detect.warm()


Fold = Callable[[str], str]


def features(text: str, fold: Fold) -> set[bytes]:
    """The feature set of a text (see the module docstring); empty for a text with none."""
    # Links are features of their own; their letters must not also become bigrams.
    return _features(*without_links(text), fold)


def message_features(parsed: ParsedMessage, fold: Fold) -> set[bytes]:
    """:func:`features` of a message, its links read from its shared parse."""
    return _features(*cut_links(parsed.casefolded, parsed.view(message_link_spans)), fold)


def _features(rest: str, found: list[str], fold: Fold) -> set[bytes]:
    folded = fold(rest)
    # Bigrams: the usual unit for Chinese (a word is mostly two characters), and short spam
    # with one word changed stays above the threshold, where 3-grams lose half their overlap.
    grams = {folded[i : i + 2] for i in range(max(len(folded) - 1, 0))}
    if len(folded) == 1:
        grams.add(folded)
    out = {g.encode() for g in grams}
    out.update(f"link:{link}".encode() for link in found)
    return out


def sketch(items: Iterable[bytes]) -> LeanMinHash:
    """The MinHash of a feature set."""
    permutations = _permutations()
    from datasketch import LeanMinHash, MinHash

    mh = MinHash(num_perm=NUM_PERM, permutations=permutations, scheme="affine32")
    mh.update_batch(list(items))
    return LeanMinHash(mh)


def similarity(a: LeanMinHash, b: LeanMinHash) -> float:
    """Estimated Jaccard similarity of two sketches."""
    return float((a.hashvalues == b.hashvalues).sum()) / NUM_PERM


def _new_index() -> MinHashLSH:
    _permutations()
    from datasketch import MinHashLSH

    return MinHashLSH(threshold=_INDEX_THRESHOLD, num_perm=NUM_PERM)


@dataclass
class Seen:
    """One message in the window."""

    at: datetime
    group_id: int
    user_id: str
    chat_id: str
    message_id: str


@dataclass
class Cluster:
    """Messages that are near-duplicates of one representative, within the window.

    Counts are kept incrementally, so a cluster of thousands of copies answers "how many
    accounts" in constant time.
    """

    key: str
    sketch: LeanMinHash
    last: datetime
    #: Recent messages of the cluster, oldest first.
    seen: deque[Seen] = field(default_factory=deque)
    #: Messages not acted on yet (a wave's first messages are removed with the one that tips it);
    #: bounded, so a cluster of ordinary chat repeated by hundreds of members stays cheap.
    pending: deque[Seen] = field(default_factory=lambda: deque(maxlen=PENDING_MAX))
    #: (group, account) → messages in the window; and the distinct counts derived from it.
    pairs: dict[tuple[int, str], int] = field(default_factory=dict)
    accounts_in: dict[int, int] = field(default_factory=dict)
    groups_of: dict[str, int] = field(default_factory=dict)

    def add(self, entry: Seen) -> None:
        """Count one message."""
        pair = (entry.group_id, entry.user_id)
        count = self.pairs.get(pair, 0)
        if count == 0:
            self.accounts_in[entry.group_id] = self.accounts_in.get(entry.group_id, 0) + 1
            self.groups_of[entry.user_id] = self.groups_of.get(entry.user_id, 0) + 1
        self.pairs[pair] = count + 1
        self.seen.append(entry)
        self.pending.append(entry)
        self.last = entry.at

    def prune(self, since: datetime) -> None:
        """Forget messages older than ``since``."""
        while self.seen and self.seen[0].at <= since:
            old = self.seen.popleft()
            pair = (old.group_id, old.user_id)
            left = self.pairs[pair] - 1
            if left:
                self.pairs[pair] = left
                continue
            del self.pairs[pair]
            self.accounts_in[old.group_id] -= 1
            self.groups_of[old.user_id] -= 1
        while self.pending and self.pending[0].at <= since:
            self.pending.popleft()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the window says of a new message."""

    #: Distinct accounts that posted it (or nearly) in its group within the window, itself included.
    accounts: int
    #: Distinct groups the same account posted it in within the window.
    groups: int
    #: The cluster the message joined.
    cluster: Cluster | None = None
    group_id: int = 0
    #: The message itself (not among ``earlier``).
    seen: Seen | None = None

    @property
    def earlier(self) -> tuple[Seen, ...]:
        """The earlier near-duplicates in the same group not yet acted on (to remove with it).
        Read only when the message is acted on, so ordinary chat never walks the list."""
        if self.cluster is None:
            return ()
        return tuple(p for p in self.cluster.pending if p.group_id == self.group_id and p is not self.seen)


@dataclass
class DuplicateWindow:
    """The recent messages of every group, grouped into clusters of near-duplicates.

    Only a cluster's representative is in the LSH index, so a wave of 6,000 copies costs one
    index query per message against a handful of clusters, not a comparison with every copy.
    """

    #: Built with the first message that has a sketch (see the module docstring).
    _index: MinHashLSH | None = None
    clusters: dict[str, Cluster] = field(default_factory=dict)
    _next: int = 0
    _observed: int = 0

    @property
    def lsh(self) -> MinHashLSH:
        """The LSH index of the clusters' representatives."""
        if self._index is None:
            self._index = _new_index()
        return self._index

    def _expire(self, since: datetime) -> None:
        for key in [k for k, c in self.clusters.items() if c.last <= since]:
            del self.clusters[key]
            self.lsh.remove(key)

    def _find(self, mh: LeanMinHash, threshold: float) -> Cluster | None:
        best: Cluster | None = None
        best_score = threshold
        for key in self.lsh.query(mh):
            cluster = self.clusters.get(key)
            if cluster is None:
                continue
            score = similarity(cluster.sketch, mh)
            if score >= best_score:
                best, best_score = cluster, score
        return best

    def observe(
        self,
        *,
        group_id: int,
        user_id: str,
        chat_id: str,
        message_id: str,
        at: datetime,
        mh: LeanMinHash,
        window: timedelta,
        threshold: float,
    ) -> Verdict:
        """Add a message and say how many accounts (and groups) posted something this similar."""
        since = at - window
        self._observed += 1
        if self._observed % 256 == 0 or len(self.clusters) > MAX_WINDOW:
            self._expire(since)
        cluster = self._find(mh, threshold)
        if cluster is None:
            self._next += 1
            cluster = Cluster(f"c{self._next}", mh, at)
            self.clusters[cluster.key] = cluster
            self.lsh.insert(cluster.key, mh)
        cluster.prune(since)
        entry = Seen(at, group_id, user_id, chat_id, message_id)
        cluster.add(entry)
        return Verdict(
            cluster.accounts_in.get(group_id, 0), cluster.groups_of.get(user_id, 0), cluster, group_id, entry
        )

    def drop(self, verdict: Verdict, chat_id: str, message_id: str) -> None:
        """One message was acted on by other means (probation): never act on it again."""
        cluster = verdict.cluster
        if cluster is not None and verdict.seen is not None and verdict.seen in cluster.pending:
            cluster.pending.remove(verdict.seen)

    def handled(self, verdict: Verdict) -> None:
        """The message and the verdict's earlier ones were acted on: never act on them again."""
        if verdict.cluster is not None:
            verdict.cluster.pending.clear()
