"""Review suggestions that respect the ontology (issue 23, item 3): the wrong merges the issue
met are never offered, and the flagship linkage is not "outside the lexicon"."""

from __future__ import annotations

from etl.graph.records import DocumentRecord
from etl.research.review import review


def record(path: str, **entities: list[str]) -> DocumentRecord:
    return DocumentRecord.model_validate({"doc": path, "doc_id": "0" * 16, "path": path, "entities": entities})


def merges(items) -> set[tuple[str, str]]:
    return {(item.name, item.other) for item in items if item.kind == "near-duplicate"}


def test_different_chiefs_linkages_and_general_nouns_are_never_merged():
    records = [
        record("a.txt", Actor=["村级林长", "乡级河长", "河长办"], Mechanism=["林长+检察长", "河湖长+检察长"],
               Indicator=["资金"]),
        record("b.txt", Actor=["村级河长", "乡级林长", "河长办"], Mechanism=["河长+检察长", "河长+检察长"],
               Indicator=["中央资金"]),
        record("c.txt", Actor=["村级河长"], Mechanism=["河长+检察长"], Indicator=["中央资金"]),
    ]
    found = merges(review(records))
    wrong = {("村级林长", "村级河长"), ("乡级河长", "乡级林长"), ("乡级林长", "乡级河长"),
             ("林长+检察长", "河长+检察长"), ("河湖长+检察长", "河长+检察长"), ("资金", "中央资金"),
             ("中央资金", "资金")}
    assert not found & wrong


def test_a_variant_is_still_offered_and_evidence_ranks_it():
    records = [
        record("a.txt", Measure=["生态清洁小流域", "梯田"]),
        record("b.txt", Measure=["生态清洁小流域"]),
        record("c.txt", Measure=["生态清洁型小流域"]),
        # Two names one report uses side by side are more likely two things: ranked after.
        record("d.txt", Measure=["水土流失综合整治", "水土流失综合防治"]),
        record("e.txt", Measure=["水土流失综合整治"]),
        record("f.txt", Measure=["水土流失综合整治"]),
    ]
    items = [item for item in review(records) if item.kind == "near-duplicate"]
    assert [(item.name, item.other) for item in items] == [("生态清洁型小流域", "生态清洁小流域"),
                                                           ("水土流失综合防治", "水土流失综合整治")]


def test_redacted_names_are_never_paired():
    """Placeholders come from schema/regions.yaml: 某县水利局 and 某市水利局 are never one (STYLE 6)."""
    records = [record("a.txt", Actor=["某县水利局", "XX县水利局", "忻州市水利局"], Region=["某县", "XX区"]),
               record("b.txt", Actor=["某市水利局", "XX市水利局", "忻州市水务局"], Region=["某区", "XX县"])]
    found = merges(review(records))
    assert not {pair for pair in found if any(mark in "".join(pair) for mark in ("某", "X"))}
    assert found & {("忻州市水利局", "忻州市水务局"), ("忻州市水务局", "忻州市水利局")}


def test_the_flagship_linkage_is_not_outside_the_lexicon():
    items = review([record("a.txt", Mechanism=["河长+检察长", "河长+不存在的角色"])])
    outside = {item.name for item in items if item.kind == "outside-lexicon"}
    assert "河长+检察长" not in outside
    assert "河长+不存在的角色" in outside
