"""How the learned entity model's weights are applied (etl.extract.learned): the probability of a
candidate, the names of one entity, the open spans proposed. Pure tests on tiny models: the model
that training builds is tests/test_train.py's."""

from __future__ import annotations

import math
import random

from etl.extract import learned
from etl.extract.analyser import Word
from etl.graph.records import Mention


def _plain_probability(weights: dict[str, float], keys: list[str], numeric: list[tuple[str, float]]) -> float:
    """The logistic of the terms summed left to right in one list, as the weights were first applied."""
    terms = [weights.get(key, 0.0) for key in keys] + [weights.get(key, 0.0) * value for key, value in numeric]
    return 1.0 / (1.0 + math.exp(-max(min(sum(terms), 40.0), -40.0)))


def test_a_probability_is_the_same_to_the_last_bit_as_the_terms_summed_in_the_features_order():
    """Records depend on a probability's every bit (the order of accepted candidates): weights of
    every magnitude, features without a weight and sums past the clip give the plain sum's."""
    rng = random.Random(7)
    weights = {f"f{i}": rng.choice([1e-12, 1e-3, 1.0, 30.0]) * rng.uniform(-1, 1) for i in range(200)}
    for _ in range(2000):
        keys = [f"f{rng.randrange(260)}" for _ in range(rng.randrange(0, 30))]  # f200 and on: no weight
        numeric = [(f"f{rng.randrange(260)}", rng.uniform(-3, 3)) for _ in range(rng.randrange(0, 3))]
        assert learned.probability(weights, keys, numeric) == _plain_probability(weights, keys, numeric)
    assert learned.probability({"a": 50.0}, ["a"], []) == _plain_probability({"a": 50.0}, ["a"], [])
    assert learned.probability({}, [], []) == 0.5


def test_names_annotators_gave_one_entity_keep_one_name_and_others_both():
    """Of two names annotators listed as one entity the likelier is kept; a third name of the
    label listed with neither is kept too."""
    text = "河长办和河长制办公室及联席会议"
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset(), [])
    model = learned.EntityModel({"format": learned.FORMAT, "threshold": 0.5, "gold": [], "seen": [],
                                 "weights": {"Mechanism|bias": 5.0, "Mechanism|end1=办": 1.0},
                                 "aliases": [["Mechanism", "河长制办公室", "河长办"]]})
    ruled = Mention(type="Mechanism", name="河长办", text="河长办", sentence=0, start=0, end=3)
    other = Mention(type="Mechanism", name="河长制办公室", text="河长制办公室", sentence=0, start=4, end=10)
    third = Mention(type="Mechanism", name="联席会议", text="联席会议", sentence=0, start=11, end=15)
    assert model.counts.partners("Mechanism", "河长办") == {"河长制办公室"}
    assert model.counts.partners("Actor", "河长办") == frozenset()
    assert {m.name for m in model.accept(view, [other, ruled, third])} == {"河长办", "联席会议"}


def test_an_open_span_stops_at_a_word_of_other_characters_and_at_its_length():
    """A run of words is proposed while its words are Chinese characters alone and it is at most
    SPAN_LENGTH characters; a word whose last character ends no head word ends no span."""
    text = "三级X河长体系" + "水" * 15 + "体系"
    words = [Word(0, 2, "m"), Word(2, 3, "n"), Word(3, 5, "n"), Word(5, 7, "n"), Word(7, 22, "n"),
             Word(22, 24, "n")]
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset(), words)
    proposer = learned.SpanProposer({"Mechanism": ["体系", "河长"]}, None, {"Mechanism": 4})
    proposed = {(m.start, m.end) for m in proposer.propose(view)}
    # 体系 (5, 7) after X: 河长体系 and 河长 only; the last 体系 after fifteen 水: 17 characters, too long.
    assert proposed == {(3, 5), (5, 7), (3, 7), (22, 24)}
    assert all(m.sentence == 0 and m.name == m.text == text[m.start:m.end] for m in proposer.propose(view))
