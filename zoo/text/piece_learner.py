"""Learning WordPiece pieces by frequent-pair merging, deterministically."""

import collections
import heapq
from itertools import pairwise


def learn_pieces(word_counts, max_pieces, suffix_indicator="##"):
    """Learns up to `max_pieces` multi-character pieces from word frequencies.

    Every word starts as its characters (all but the first marked as continuations,
    "##x"); the most frequent adjacent pair is merged into a new piece, again and again,
    as in BPE and the WordPiece trainers. Ties go to the alphabetically first pair, so the
    same corpus always gives the same vocabulary (the `tokenizers` trainer does not: its
    hash maps break ties differently in every process).

    Args:
        word_counts: dict str -> int, how often each word occurs.
        max_pieces: int, the most pieces to return.
        suffix_indicator: str, the mark of a piece that continues a word.

    Returns:
        list of str, the pieces in the order they were learned (most useful first).
    """
    words = sorted(word_counts)
    counts = [word_counts[word] for word in words]
    symbols = [[word[0], *(suffix_indicator + char for char in word[1:])] for word in words]
    pair_counts = collections.Counter()
    pair_words = collections.defaultdict(set)
    for index, word_symbols in enumerate(symbols):
        for pair in pairwise(word_symbols):
            pair_counts[pair] += counts[index]
            pair_words[pair].add(index)
    # A heap of (-count, pair) with stale entries skipped on the way out.
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    pieces, seen = [], set()
    strip = len(suffix_indicator)
    while heap and len(pieces) < max_pieces:
        negative_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative_count or negative_count == 0:
            continue
        merged = pair[0] + pair[1][strip:]
        changed = set()
        for index in sorted(pair_words.pop(pair)):
            old = symbols[index]
            new = _merge(old, pair, merged)
            if new == old:
                continue
            for old_pair in pairwise(old):
                pair_counts[old_pair] -= counts[index]
                changed.add(old_pair)
            for new_pair in pairwise(new):
                pair_counts[new_pair] += counts[index]
                pair_words[new_pair].add(index)
                changed.add(new_pair)
            symbols[index] = new
        del pair_counts[pair]
        changed.discard(pair)
        for changed_pair in changed:
            if pair_counts[changed_pair] > 0:
                heapq.heappush(heap, (-pair_counts[changed_pair], changed_pair))
        if merged not in seen:
            seen.add(merged)
            pieces.append(merged)
    return pieces


def _merge(symbols, pair, merged):
    result, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            result.append(merged)
            i += 2
        else:
            result.append(symbols[i])
            i += 1
    return result
