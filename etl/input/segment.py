"""Segment stage: normalized text in, sentences with offsets out.

Takes the normalized text and returns etl.graph.records.Sentence items whose start/end are
offsets into that text (text[start:end] == sentence.text). A sentence ends at 。！？；
(and their half-width forms !?;) or at a line break; an end mark inside quotes, 《》 titles
or brackets does not end it, so a quoted slogan or a title stays whole. A colon does not
end a sentence: what follows it is the rest of the same statement.

Written by hand rather than with a library sentence splitter: spaCy's and jieba's
splitters neither keep Chinese quotes whole nor report offsets into our text.
"""

from __future__ import annotations

import re

from etl.graph.records import Sentence
from etl.input.marks import load_marks

# The marks are data (schema/patterns/text.yaml): end marks, quote pairs, closers after an end.
ENDS = set(load_marks().sentence_ends)
OPENERS = load_marks().pairs
CLOSERS_AFTER_END = set(load_marks().closers_after_end)
_EVENTS = re.compile("[\n" + re.escape("".join(ENDS | set(OPENERS) | set(OPENERS.values()))) + "]")
# A quote that runs past this many characters was never closed: stop trusting it.
MAX_QUOTE = 300


def _spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    stack: list[tuple[str, int]] = []
    pos = 0
    # Only line breaks, end marks and quote characters matter; the regex skips the rest in C.
    while match := _EVENTS.search(text, pos):
        i, ch = match.start(), match.group(0)
        pos = i + 1
        if stack and i - stack[-1][1] > MAX_QUOTE:
            # The outermost open quote was never closed: read again from just after it, as if it
            # were not there, so the end marks it seemed to hold end their sentences.
            pos = stack[0][1] + 1
            stack.clear()
            continue
        if ch == "\n":
            stack.clear()
            spans.append((start, i))
            start = i + 1
        elif ch in OPENERS:
            stack.append((OPENERS[ch], i))
        elif stack and ch == stack[-1][0]:
            stack.pop()
        elif ch in ENDS and not stack:
            end = i + 1
            while end < len(text) and (text[end] in ENDS or text[end] in CLOSERS_AFTER_END):
                end += 1
            spans.append((start, end))
            start = pos = end
    spans.append((start, len(text)))
    return spans


def segment(text: str) -> list[Sentence]:
    """Split text into sentences with offsets; blank pieces are dropped."""
    sentences: list[Sentence] = []
    for start, end in _spans(text):
        piece = text[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        offset = start + (len(piece) - len(piece.lstrip()))
        sentences.append(Sentence(index=len(sentences), text=stripped, start=offset, end=offset + len(stripped)))
    return sentences
