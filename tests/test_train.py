"""govgraph train: the learned entity model built from annotations, loaded at run time."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from etl import config, train
from etl.cli import app
from etl.errors import DataFileError
from etl.extract import extract_corpus, learned
from etl.train import quantities

SHARED = config.PROJECT_ROOT.parent / "shared"
SAMPLE = config.sample_corpus_dir()


@pytest.fixture(scope="module")
def rule_records(tmp_path_factory) -> dict[str, dict]:
    """The sample reports as the rules alone read them."""
    import os

    out = tmp_path_factory.mktemp("rules")
    old = os.environ.get("GOVGRAPH_MODELS")
    os.environ["GOVGRAPH_MODELS"] = str(tmp_path_factory.mktemp("none"))
    try:
        summary = extract_corpus([SAMPLE], out)
    finally:
        if old is None:
            del os.environ["GOVGRAPH_MODELS"]
        else:
            os.environ["GOVGRAPH_MODELS"] = old
    return {r["doc"]: r for r in map(json.loads, summary.out.read_text(encoding="utf-8").splitlines())}


def tiny_gold(records: dict[str, dict], path: Path, drop_every: int = 3) -> Path:
    """A gold file for three sample reports: the rules' entities with every third name of a label
    left out (what an annotator would reject), and 水土保持 added as a Measure where written."""
    lines = []
    for name in sorted(records)[:3]:
        entities = {label: [n for i, n in enumerate(names) if i % drop_every] for label, names in
                    records[name]["entities"].items()}
        lines.append(json.dumps({"doc": name, "entities": entities}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_train_is_deterministic_and_its_model_is_loaded(tmp_path, rule_records, monkeypatch):
    gold = tiny_gold(rule_records, tmp_path / "gold.jsonl")
    runner = CliRunner()
    outputs = []
    for out in ("a", "b"):
        result = runner.invoke(app, ["train", "--gold", str(gold), "--raw", str(SAMPLE), "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        assert "3 reports (0 from corrections)" in result.output
        outputs.append((tmp_path / out / learned.MODEL_FILE).read_bytes())
    assert outputs[0] == outputs[1]
    assert (tmp_path / "a" / "quantities.json").read_bytes() == (tmp_path / "b" / "quantities.json").read_bytes()
    content = json.loads(outputs[0])
    assert content["documents"] == 3 and content["weights"] and content["command"].startswith("govgraph train")
    # Every annotated name is remembered with its label.
    annotated = {(label, n) for line in gold.read_text(encoding="utf-8").splitlines()
                 for label, names in json.loads(line)["entities"].items() if label != "Region" for n in names}
    assert annotated == {(label, name) for label, name, _ in content["gold"]}

    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path / "a"))
    summary = extract_corpus([SAMPLE], tmp_path / "records")
    assert summary.failures == [] and summary.documents == 5
    records = {r["doc"]: r for r in map(json.loads, summary.out.read_text(encoding="utf-8").splitlines())}
    # The model keeps fewer names than the rules gave it on reports it was trained on (a third were
    # rejected there), and never a name that is no candidate or annotated name.
    trained_on = sorted(rule_records)[:3]
    kept = sum(len(n) for d in trained_on for label, n in records[d]["entities"].items() if label != "Region")
    ruled = sum(len(n) for d in trained_on for label, n in rule_records[d]["entities"].items() if label != "Region")
    assert kept < ruled
    for record in records.values():
        for q in record["quantities"]:  # a quantity's subject stays an entity
            assert q["subject"] in record["entities"][q["subject_type"]]


def test_without_an_artifact_the_rules_decide(tmp_path, monkeypatch, rule_records):
    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path / "empty"))
    assert learned.default_model() is None


def test_an_unreadable_artifact_is_one_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / learned.MODEL_FILE).write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path))
    with pytest.raises(DataFileError, match=r"entities\.json: not a readable entity model"):
        learned.default_model()


def test_a_retrained_artifact_is_read_again_and_another_format_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path))
    path = tmp_path / learned.MODEL_FILE
    content = {"format": learned.FORMAT, "threshold": 0.5, "gold": [], "seen": [], "weights": {"Actor|bias": 1.0}}
    path.write_text(json.dumps(content), encoding="utf-8")
    first = learned.default_model()
    assert learned.default_model() is first, "read once while the file stays as it is"
    path.write_text(json.dumps({**content, "threshold": 0.75}), encoding="utf-8")
    assert learned.default_model().threshold == 0.75, "govgraph train wrote it again: the new one is read"
    path.write_text(json.dumps({**content, "format": learned.FORMAT + 1, "threshold": 0.625}), encoding="utf-8")
    with pytest.raises(DataFileError, match=rf"{re.escape(str(path))}: format {learned.FORMAT + 1}, this version "
                                            rf"reads {learned.FORMAT}; run govgraph train again"):
        learned.default_model()


def _annotated(name: str, text: str, measures: list[str]) -> train.Annotated:
    draft = SimpleNamespace(norm=SimpleNamespace(text=text))
    return train.Annotated(name, draft, {"Measure": [(m,) for m in measures]})


def test_a_reports_features_leave_its_slice_out_of_the_name_counts():
    """Training features count a name as a report of an unseen slice would see it: the two ta
    reports that annotate 淤地坝 add nothing to each other's counts, tb's report counts in full."""
    docs = [_annotated("ta01.txt", "修建淤地坝", ["淤地坝"]),
            _annotated("ta02.txt", "淤地坝和梯田", ["淤地坝", "梯田"]),
            _annotated("tb01.txt", "淤地坝", [])]
    counts = train.count_names(docs)
    assert counts.prior("Measure", "淤地坝") == (2, 3)
    group = train.group_of(docs)
    by_group = train.group_counts(docs, counts, group)
    own_gold, own_seen = by_group[group("ta02.txt")]
    assert counts.prior("Measure", "淤地坝", (own_gold["Measure", "淤地坝"], own_seen["淤地坝"])) == (0, 1)
    own_gold, own_seen = by_group[group("tb01.txt")]
    assert counts.prior("Measure", "淤地坝", (own_gold["Measure", "淤地坝"], own_seen["淤地坝"])) == (2, 2)


def test_names_listed_apart_more_often_than_together_are_no_aliases():
    """河长制 and 湖长制 are one entity's names in one report and two entities in two others: a
    report that names both keeps both; 河长办 and 河长制办公室, only ever listed together, are one."""
    def doc(name, groups):
        return train.Annotated(name, None, {"Mechanism": groups})

    docs = [doc("ta01.txt", [("河长制", "湖长制"), ("河长办", "河长制办公室")]),
            doc("ta02.txt", [("河长制",), ("湖长制",)]), doc("tb01.txt", [("湖长制",), ("河长制",)])]
    assert train.aliases_of(docs) == {("Mechanism", "河长制办公室", "河长办")}
    assert train.aliases_of(docs[:1]) == {("Mechanism", "河长制", "湖长制"), ("Mechanism", "河长制办公室", "河长办")}


def test_a_name_every_mention_of_which_runs_on_into_one_character_says_so():
    """林长 written only as the head of 林长制 is a feature of its own (annotators never take the
    role from the system's name): the character after every mention, when it is the same."""
    from etl.graph.records import Mention

    text = "推行林长制，落实林长制，林长巡林"
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset())
    counts = learned.NameCounts({}, {})

    def keys(*starts):
        mentions = [Mention(type="Actor", name="林长", text="林长", sentence=0, start=s, end=s + 2) for s in starts]
        return learned.feature_keys("Actor", "林长", mentions, view, counts, "rule")[0]

    assert "after_all=制" in keys(2, 8)
    assert not any(k.startswith("after_all=") for k in keys(2, 8, 12))
    assert not any(k.startswith("after_all=") for k in keys(2))  # one mention: its after= says it


def test_a_kind_of_run_on_annotators_never_took_is_never_kept():
    """Training lists (label, character) pairs whose candidates, every mention running on into the
    character, are enough and none annotated; the model keeps no such candidate, whatever it
    scores, and keeps it once one mention stands alone."""
    from etl.graph.records import Mention

    rows = [{"Actor|bias": 1.0, "Actor|after_all=制": 1.0}] * 3 + [{"Actor|bias": 1.0, "Actor|after_all=办": 1.0}] * 3
    assert train.never_after(rows, [0, 0, 0, 0, 1, 0], support=3) == [("Actor", "制")]
    assert train.never_after(rows, [0, 0, 0, 0, 1, 0], support=4) == []
    text = "推行林长制，落实林长制，林长巡林"
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset())
    model = learned.EntityModel({"format": learned.FORMAT, "threshold": 0.5, "gold": [], "seen": [],
                                 "weights": {"Actor|bias": 5.0}, "never_after": [["Actor", "制"]]})

    def kept(*starts):
        mentions = [Mention(type="Actor", name="林长", text="林长", sentence=0, start=s, end=s + 2) for s in starts]
        return {m.name for m in model.accept(view, mentions)}

    assert kept(2, 8) == set()
    assert kept(2, 8, 12) == {"林长"}


def test_reports_of_one_slice_leave_only_themselves_out():
    """With every report of one slice, leaving the slice out would leave no counts to learn from."""
    docs = [_annotated("ta01.txt", "修建淤地坝", ["淤地坝"]), _annotated("ta02.txt", "淤地坝", ["淤地坝"])]
    group = train.group_of(docs)
    own_gold, own_seen = train.group_counts(docs, train.count_names(docs), group)[group("ta02.txt")]
    assert (own_gold["Measure", "淤地坝"], own_seen["淤地坝"]) == (1, 1)


def test_a_span_is_dropped_for_an_overlapping_name_of_its_own_label_only():
    """An open span overlapping a kept name of its label is another cut of the same words; one
    overlapping a name of another label (三级河长体系 around the Actor 河长) is a name of its own."""
    from etl.extract.analyser import Word
    from etl.graph.records import Mention

    text = "建立三级河长体系"
    words = [Word(0, 2, "v"), Word(2, 4, "m"), Word(4, 6, "n"), Word(6, 8, "n")]
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset(), words)
    model = learned.EntityModel({"format": learned.FORMAT, "threshold": 0.5, "gold": [], "seen": [],
                                 "weights": {"Actor|bias": 5.0, "Mechanism|bias": 5.0},
                                 "heads": {"Mechanism": ["体系"]}, "span_words": {"Mechanism": 3}})
    actor = Mention(type="Actor", name="河长", text="河长", sentence=0, start=4, end=6)
    kept = {(m.type, m.name) for m in model.accept(view, [actor])}
    assert ("Actor", "河长") in kept and ("Mechanism", "三级河长体系") in kept
    assert ("Mechanism", "河长体系") not in kept  # a shorter cut of the same Mechanism words


def test_a_kind_of_span_training_never_scored_near_acceptance_is_not_proposed():
    """Open spans are judged by the most specific of their kinds (learned.cut_keys) that training
    saw enough of: a kind none of whose training spans came near acceptance is not proposed, a
    kind that did or that training did not see is."""
    from etl.extract.analyser import Word

    text = "建立三级河长体系"
    words = [Word(0, 2, "v"), Word(2, 4, "m"), Word(4, 6, "n"), Word(6, 8, "n")]
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset(), words)

    def proposed(cuts):
        proposer = learned.SpanProposer({"Mechanism": ["体系"]}, None, {"Mechanism": 3}, cuts)
        return {m.name for m in proposer.propose(view)}

    assert proposed({}) == {"体系", "河长体系", "三级河长体系"}  # "体系" alone is one word: 2 characters
    # 河长体系: n n after m; 三级河长体系: m n n after v. The most specific kind decides.
    assert proposed({("Mechanism", "体系", 2, "n", "m"): False}) == {"体系", "三级河长体系"}
    assert proposed({("Mechanism", "体系", 2, "n"): False, ("Mechanism", "体系", 2, "n", "m"): True}) == \
        {"体系", "河长体系", "三级河长体系"}
    assert proposed({("Mechanism", "n", "系", 3): False}) == {"体系", "河长体系"}  # the head's tag and last character


def test_a_proposer_keeps_its_verdicts_and_proposes_the_same_when_it_drops_them(monkeypatch):
    """SpanProposer keeps each kind's verdict for the next span of the kind, and drops them all
    past VERDICTS kinds: proposals are the same either way."""
    from etl.extract.analyser import Word

    text = "建立三级河长体系"
    words = [Word(0, 2, "v"), Word(2, 4, "m"), Word(4, 6, "n"), Word(6, 8, "n")]
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset(), words)

    def proposer():
        return learned.SpanProposer({"Mechanism": ["体系"]}, None, {"Mechanism": 3},
                                    {("Mechanism", "体系", 2, "n", "m"): False})

    keeping = proposer()
    first = keeping.propose(view)
    assert {m.name for m in first} == {"体系", "三级河长体系"}
    assert keeping.propose(view) == first and len(keeping._verdicts) == 3
    monkeypatch.setattr(learned, "VERDICTS", 1)
    dropping = proposer()
    assert dropping.propose(view) == first and len(dropping._verdicts) == 1


def test_span_kinds_are_judged_by_the_best_probability_of_enough_training_spans():
    a, b, c = ("Measure", "整治", 2), ("Measure", "整治", 3), ("Measure", "整治", 4)
    kinds = [{a}, {a}, {a, b}, {b}, {b}, {c}]
    cuts = train.span_cuts(kinds, [0.01, 0.02, 0.5, 0.03, 0.04, 0.9], floor=0.1, support=3)
    assert cuts == {a: True, b: True}  # c: one training span, too few to judge by
    assert train.span_cuts(kinds, [0.01, 0.02, 0.05, 0.03, 0.04, 0.9], floor=0.1, support=3) == {a: False, b: False}


def test_a_bad_gold_line_names_the_file_and_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"doc": "a.txt", "entities": {}}\n{"entities": {}}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--gold", str(gold), "--raw", str(SAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"Error: {gold}:2: not a gold document" in result.output


def test_corrected_reports_train_as_annotated_ones(tmp_path, rule_records):
    """A report a researcher corrected is one more annotated report: what the corrections reject
    is a negative example, what they keep a positive one."""
    doc = sorted(rule_records)[4]
    rejected = sorted(rule_records[doc]["entities"]["Measure"])[0]
    corrections = tmp_path / "corrections.yaml"
    corrections.write_text(f"corrections:\n  - reject: {{type: Measure, name: {rejected}, doc: {doc}}}\n",
                           encoding="utf-8")
    gold = tiny_gold(rule_records, tmp_path / "gold.jsonl")
    summary = train.train_models([gold], [SAMPLE], tmp_path / "models", corrections)
    assert summary.documents == 4 and summary.corrected == 1
    drafts, _ = train.read_drafts([SAMPLE], wanted=lambda name: name == doc)
    corrected = train.corrected_gold(drafts, corrections)[doc]
    assert (rejected,) not in corrected["Measure"] and corrected["Measure"]
    # What the researcher rejected, and no annotated report holds, is never kept in another report.
    annotated = {n for line in gold.read_text(encoding="utf-8").splitlines()
                 for n in json.loads(line)["entities"].get("Measure", ())}
    artifact = json.loads((tmp_path / "models" / "entities.json").read_text(encoding="utf-8"))
    assert (["Measure", rejected] in artifact["rejected"]) is (rejected not in annotated)
    assert ["Measure", sorted(corrected["Measure"])[0][0]] not in artifact["rejected"], "a name kept stays"


def test_a_name_the_corrections_rejected_is_not_kept_in_other_reports():
    """A researcher who rejects a name in the reports they read means it gone from the others."""
    from etl.graph.records import Mention

    view = learned.DocumentView("组织志愿者巡河，群众参与", "", [0], frozenset(), frozenset())
    data = {"format": learned.FORMAT, "threshold": 0.5, "gold": [], "seen": [], "weights": {"Actor|bias": 5.0}}
    mentions = [Mention(type="Actor", name=name, text=name, sentence=0, start=start, end=start + len(name))
                for name, start in (("志愿者", 2), ("群众", 8))]
    assert {m.name for m in learned.EntityModel(data).accept(view, mentions)} == {"志愿者", "群众"}
    rejecting = learned.EntityModel({**data, "rejected": [["Actor", "群众"]]})
    assert {m.name for m in rejecting.accept(view, mentions)} == {"志愿者"}


def _scorer():
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (SHARED / "train" / "gold.jsonl").exists(), reason="shared/ is not beside the repo")
def test_leave_one_slice_out_scores_do_not_fall():
    """Train on nine slices of the 200-report pool, score the tenth: the figure that says how the
    extractor does on reports nobody tuned for. Floors at what it reached when this was written."""
    gold_path = SHARED / "train" / "gold.jsonl"
    gold = train.read_gold(gold_path)
    drafts, failures = train.read_drafts([SHARED / "train" / "raw"], wanted=gold.__contains__)
    assert failures == []
    folds = train.loso(drafts, gold, quantity_gold=quantities.read_gold([gold_path]))
    records = {r.doc: json.loads(r.to_json()) for slice_records in folds.values() for r in slice_records}
    score = _scorer()
    result, _, missing = score.score(score.read_jsonl(gold_path), records)
    assert missing == []
    assert result["entities_all"]["f1"] >= 0.68
    assert result["relations"]["f1"] >= 0.555
    assert result["quantities"]["f1"] >= 0.595


def test_the_other_items_of_a_list_the_rules_named_one_of_are_candidates_of_its_label():
    """开展清理河道、拆除违建、恢复植被等工作 with the rules naming 拆除违建: the items between
    marks are taken whole, the first at each word boundary (its verb 开展 may open it), the last up
    to 等; the model judges them (source "list"). A mention no mark touches lists nothing."""
    from etl.extract.analyser import Word
    from etl.graph.records import Mention

    text = "开展清理河道、拆除违建、恢复植被等工作。建立巡查制度"
    words = [Word(0, 2, "v"), Word(2, 4, "v"), Word(4, 6, "n"), Word(6, 7, "w"), Word(7, 9, "v"), Word(9, 11, "vn"),
             Word(11, 12, "w"), Word(12, 14, "v"), Word(14, 16, "n"), Word(16, 17, "u"), Word(17, 19, "vn"),
             Word(19, 20, "w"), Word(20, 22, "v"), Word(22, 24, "v"), Word(24, 26, "n")]
    view = learned.DocumentView(text, "", [0, 20], frozenset(), frozenset(), words)
    named = Mention(type="Measure", name="拆除违建", text="拆除违建", sentence=0, start=7, end=11)
    alone = Mention(type="Mechanism", name="巡查制度", text="巡查制度", sentence=1, start=22, end=26)
    items = {(p.type, p.name, p.start) for p in learned.list_items(view, [named, alone])}
    assert items == {("Measure", "开展清理河道", 0), ("Measure", "清理河道", 2), ("Measure", "河道", 4),
                     ("Measure", "拆除违建", 7), ("Measure", "恢复植被", 12)}
    found = learned.Candidates.of(view, [named, alone], proposer=learned.SpanProposer({}))
    assert found.source(("Measure", "恢复植被")) == "list" and found.source(("Measure", "拆除违建")) == "rule"


def test_quoted_runs_are_candidates_of_the_quoted_labels():
    """推行“林长+”机制，做到“网格吹号、河长报到”，落实“河长制”: every quoted run is a candidate of
    grammar.yaml's quoted_labels (source "quote") for the model to judge; one the rules named
    stays theirs."""
    from etl.extract.candidates import load_grammar
    from etl.graph.records import Mention

    text = "推行“林长+”机制，做到“网格吹号、河长报到”，落实“河长制”"
    view = learned.DocumentView(text, "", [0], frozenset(), frozenset(), [])
    ruled = Mention(type="Mechanism", name="河长制", text="河长制", sentence=0, start=27, end=30)
    labels = load_grammar().quoted_labels
    assert {(p.type, p.name, p.start) for p in learned.quoted_names(view)} == {
        (label, name, start) for label in labels
        for name, start in (("林长+", 3), ("网格吹号、河长报到", 13), ("河长制", 27))}
    found = learned.Candidates.of(view, [ruled], proposer=learned.SpanProposer({}))
    assert found.source(("Mechanism", "林长+")) == "quote" and found.source(("Mechanism", "河长制")) == "rule"
