"""The learned part of quantities: which of the rules' numbers a document keeps.

Takes a document as the rules read it (etl.extract.assemble.Draft: its quantities and where each
stands, attribution.Place) and the artifact ``govgraph train`` wrote (models/quantities.json);
returns the quantities the model keeps. The model is a logistic regression over one quantity: its
unit and the unit's dimension, how its subject stands to the number (before or after, how far,
how long, of which label, whether the lexicon knows it, the analyser's tag of its first word, its
last character), the characters and the analyser's tags just around the number, whether a verb
of work comes right before it, how far into its clause it stands, and whether it is a target or
approximate. These describe the construction, not the words annotators chose: across slices the
names recur too rarely to learn (docs/extraction.md, quantities, fifth pass).

A quantity is dropped only when the model gives it less than the artifact's threshold, so only
numbers it is sure are spurious go. The weights are a plain {feature: weight} table: applying
them needs no learning library. With no artifact every quantity of the rules stays.
"""

from __future__ import annotations

import functools
import math
import unicodedata

from etl.extract import learned
from etl.extract import lexicon as lexicon_data
from etl.extract.attribution import ALL_CHINESE
from etl.extract.words import WordIndex
from etl.graph.records import Quantity

MODEL_FILE = "quantities.json"
FORMAT = 1
# Edges of the counts that become features (characters between the subject and the number, the
# subject's length, the number's place in its clause).
GAP_EDGES = (0, 1, 2, 4, 8, 16)
LENGTH_EDGES = (2, 3, 4, 6, 8, 12)
CLAUSE_EDGES = (0, 2, 5, 10, 20, 40)


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    return next((f"<={edge}" for edge in edges if n <= edge), f">{edges[-1]}")


def _character(c: str) -> str:
    """A character next to the number as a feature value: Chinese, a digit, a punctuation mark or
    space as itself, or other."""
    if not c:
        return "none"
    if ALL_CHINESE.fullmatch(c):
        return "han"
    if c.isdigit():
        return "digit"
    return c if c.isspace() or unicodedata.category(c)[0] == "P" else "other"


class QuantityFeatures:
    """The features of a quantity, from the rules' data (quantity verbs, units, lexicon) read once."""

    def __init__(self) -> None:
        rules = lexicon_data.load_rules()
        self.verbs = frozenset(rules["quantity_verbs"])
        self.units = lexicon_data.load_units()
        self.surfaces = lexicon_data.load_lexicon().by_surface

    def of_draft(self, draft) -> list[list[str]]:
        """Every quantity's feature keys, in the draft's order. Each quantity needs the place attribution
        gave it (attribution.Place): a draft without them is a bug of the code that made it, and
        judging its quantities without their places would keep or drop them blindly."""
        if len(draft.places) != len(draft.quantities):
            raise ValueError(f"a draft with {len(draft.quantities)} quantities and {len(draft.places)} places; "
                             "etl.extract.assemble.Assembler.draft gives each quantity its place")
        text, words = draft.norm.text, WordIndex(draft.words)
        return [self.keys(text, words, q, place) for q, place in zip(draft.quantities, draft.places, strict=True)]

    def keys(self, text: str, words: WordIndex, q: Quantity, place) -> list[str]:
        """One quantity's features, each a string of value 1; "bias" first."""
        dimension = self.units.get(q.unit, {}).get("dimension", "none")
        s, e = place.subject_start, place.subject_end
        after = s >= place.number_end
        gap = s - place.number_end if after else place.number_start - e
        first = words.at(s)
        before = words.ending(place.number_start)
        following = words.at(place.number_end)
        keys = [
            "bias", f"unit={q.unit}", f"dimension={dimension}",
            f"type={q.subject_type}", f"after={int(after)}", f"gap={_bucket(gap, GAP_EDGES)}",
            f"length={_bucket(len(q.subject), LENGTH_EDGES)}", f"last={q.subject[-1:]}",
            f"as_written={int(q.subject == text[s:e])}", f"lexicon={int(q.subject in self.surfaces)}",
            f"dimension_after={dimension}|{int(after)}", f"first_tag={first.tag if first else 'cut'}",
            f"kind={q.kind}", f"char_before={_character(text[place.number_start - 1:place.number_start])}",
            f"char_after={_character(text[place.number_end:place.number_end + 1])}",
            f"tag_before={before.tag if before else 'none'}", f"tag_after={following.tag if following else 'none'}",
            f"in_clause={_bucket(place.number_start - place.clause, CLAUSE_EDGES)}",
        ]
        if q.approx:
            keys.append("approximate")
        if q.redacted:
            keys.append("redacted")
        if before and text[before.start:before.end] in self.verbs:
            keys.append("verb_before")
        return keys


@functools.cache
def features() -> QuantityFeatures:
    """The feature maker, built once a process."""
    return QuantityFeatures()


class QuantityModel:
    """The artifact: weights and the probability under which a quantity is dropped."""

    def __init__(self, data: dict, where: str = MODEL_FILE) -> None:
        learned.check_format(data, FORMAT, where)
        self.weights: dict[str, float] = data["weights"]
        self.threshold: float = data["threshold"]

    def probability(self, keys: list[str]) -> float:
        z = sum(self.weights.get(k, 0.0) for k in keys)
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def kept(self, draft) -> list[Quantity]:
        """The draft's quantities the model keeps (a draft whose quantities lack places raises ValueError)."""
        return [q for q, keys in zip(draft.quantities, features().of_draft(draft), strict=True)
                if self.probability(keys) >= self.threshold]


def default_model() -> QuantityModel | None:
    """The quantity model in the models folder, or None (every quantity of the rules kept) when
    there is none."""
    return learned.read_artifact(MODEL_FILE, "quantity model", QuantityModel)
