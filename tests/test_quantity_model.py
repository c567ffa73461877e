"""The learned quantity filter: fitted on a tiny set, deterministic, applied without a learning
library, and absent unless govgraph train wrote it."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from etl import train
from etl.errors import DataFileError
from etl.extract import quantity_model
from etl.train import quantities as trained

REPORTS = {
    "qa01.txt": "某县2023年工作总结\n全年建成淤地坝12座，治理水土流失面积30平方公里，新建塘坝XX座。\n",
    "qa02.txt": "某县2022年工作总结\n全年建成淤地坝5座，排名全市第3名，投入资金200万元。\n",
}


@pytest.fixture(scope="module")
def drafts(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("raw")
    for name, text in REPORTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    found, failures = train.read_drafts([folder])
    assert failures == [] and sorted(found) == sorted(REPORTS)
    return found


@pytest.fixture(scope="module")
def gold(drafts, tmp_path_factory):
    """Annotations that list the dams and the area and not the money (read as the gold file is)."""
    lines = [{"doc": "qa01.txt", "quantities": [{"subject": "淤地坝", "value": 12, "unit": "座"},
                                                {"subject": "水土流失治理面积|治理水土流失面积", "value": 30,
                                                 "unit": "km²"}]},
             {"doc": "qa02.txt", "quantities": [{"subject": "淤地坝", "value": 5, "unit": "座"}]}]
    path = tmp_path_factory.mktemp("gold") / "gold.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    return trained.read_gold([path])


def test_every_quantity_knows_where_it_stands(drafts):
    for draft in drafts.values():
        assert len(draft.places) == len(draft.quantities) > 0
        for q, place in zip(draft.quantities, draft.places, strict=True):
            assert draft.norm.text[place.number_start:place.number_end] == q.text


def test_gold_keys_compare_units_as_standardized(gold):
    # km² and 平方公里 are one unit once standardized, and each variant of a subject is a key.
    assert trained.keys_of("治理水土流失面积", 30.0, "平方公里") & gold["qa01.txt"]


def test_fit_is_deterministic_and_reads_back(drafts, gold, tmp_path, monkeypatch):
    contents = [trained.fit(drafts, gold, command="test") for _ in range(2)]
    paths = [trained.write_model(c, tmp_path / out) for c, out in zip(contents, ("a", "b"), strict=True)]
    assert paths[0].read_bytes() == paths[1].read_bytes()
    content = contents[0]
    assert content["weights"] and content["examples"] == sum(len(d.quantities) for d in drafts.values())
    monkeypatch.setenv("GOVGRAPH_MODELS", str(paths[0].parent))
    model = quantity_model.default_model()
    assert model.weights == content["weights"] and model.threshold == trained.THRESHOLD
    # What annotators listed scores above what they did not.
    scored = {(q.subject, q.value): model.probability(keys) for draft in drafts.values()
              for q, keys in zip(draft.quantities, quantity_model.features().of_draft(draft), strict=True)}
    assert scored["淤地坝", 5.0] > scored[next(k for k in scored if k[1] == 200.0)]


def test_the_filter_drops_only_what_it_scores_under_the_threshold(drafts):
    model = quantity_model.QuantityModel({"format": quantity_model.FORMAT, "weights": {"unit=万元": -5.0},
                                          "threshold": 0.4})
    draft = drafts["qa02.txt"]
    kept = model.kept(draft)
    assert [q.unit for q in kept] == [q.unit for q in draft.quantities if q.unit != "万元"]
    assert all(q in draft.quantities and q.evidence for q in kept), "a kept quantity is the rules', evidence and all"
    redacted = [q for q in model.kept(drafts["qa01.txt"]) if q.redacted]
    assert redacted and all(q.value is None for q in redacted), "a redaction is never given a value"


def test_a_draft_whose_quantities_lack_their_places_is_refused(drafts):
    # Judging numbers without where they stand would keep or drop them blindly: a bug, said at once.
    model = quantity_model.QuantityModel({"format": quantity_model.FORMAT, "weights": {}, "threshold": 0.1})
    draft = dataclasses.replace(drafts["qa02.txt"], places=[])
    with pytest.raises(ValueError, match=r"quantities and 0 places"):
        model.kept(draft)


def test_without_an_artifact_every_quantity_stays(tmp_path, monkeypatch, drafts):
    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path))
    assert quantity_model.default_model() is None
    assert trained.fitted(drafts, None) is None
    (tmp_path / quantity_model.MODEL_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"quantities\.json: not a readable quantity model"):
        quantity_model.default_model()


def test_a_gold_quantity_without_a_subject_is_named_by_file_and_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    lines = ['{"doc": "a.txt", "quantities": []}', "", '{"doc": "b.txt", "quantities": [{"value": 3, "unit": "座"}]}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=re.escape(f"{path}:3: not a gold document with quantities: each needs")):
        trained.read_gold([path])
    with pytest.raises(DataFileError, match=r"missing\.jsonl: cannot read the gold file"):
        trained.read_gold([path.with_name("missing.jsonl")])
