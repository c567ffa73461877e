"""Train the quantity filter (etl.extract.quantity_model) from annotated reports.

Takes the drafts the rules read (doc name → etl.extract.assemble.Draft) and the annotated
quantities of the gold files (ONTOLOGY.md "Gold files"); returns models/quantities.json: the
weights of a logistic regression that gives each of the rules' quantities the probability that
annotators list it (same subject, value and unit), and the threshold under which it is dropped.
The fit is deterministic: documents in sorted order, a convex objective solved by lbfgs, weights
rounded in the artifact, which is written one feature a line.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from etl.extract import lexicon as lexicon_data
from etl.extract import quantity_model
from etl.extract.quantities import standardize
from etl.train import key_of, read_gold_file

# Regularization of the fit, and the probability under which a quantity is dropped: measured
# leave-one-slice-out (docs/extraction.md, quantities, fifth pass); a low threshold drops only
# the numbers the model is sure annotators would not list.
C = 1.0
THRESHOLD = 0.1

QuantityKey = tuple[str, object, str]


def _amount(value, unit: str) -> tuple[object, str]:
    """A value and unit as compared: standardized where units.yaml allows (km² and 平方公里 are one)."""
    unit = unicodedata.normalize("NFKC", str(unit or "")).replace(" ", "")
    if value is None:
        return None, unit
    try:
        value = round(float(value), 6)
    except (TypeError, ValueError):
        return str(value), unit
    std, std_unit = standardize(value, unit, lexicon_data.load_units())
    return (round(std, 4), std_unit) if std is not None else (value, unit)


def keys_of(subject: str, value, unit: str) -> set[QuantityKey]:
    """The keys a quantity is compared by, one per variant of its subject (a|b)."""
    amount = _amount(value, unit)
    return {(key_of(name, ""), *amount) for name in str(subject).split("|") if name}


def read_gold(paths: list[Path]) -> dict[str, set[QuantityKey]]:
    """doc → the keys of its annotated quantities; errors name the file and line."""
    gold: dict[str, set[QuantityKey]] = {}
    for path in paths:
        gold.update(read_gold_file(path, _quantity_keys, " with quantities: each needs subject, value and "
                                                         "unit (ONTOLOGY.md, Gold files)"))
    return gold


def _quantity_keys(obj: dict) -> set[QuantityKey]:
    return {k for q in obj.get("quantities", ()) for k in keys_of(q["subject"], q.get("value"), q.get("unit"))}


def examples(drafts: dict[str, object], gold: dict[str, set[QuantityKey]]) -> tuple[list[list[str]], list[int]]:
    """Every quantity of every annotated draft (in name order): its features and whether the
    annotations list it."""
    make = quantity_model.features()
    rows, labels = [], []
    for name in sorted(set(drafts) & set(gold)):
        draft = drafts[name]
        for q, keys in zip(draft.quantities, make.of_draft(draft), strict=True):
            rows.append(keys)
            labels.append(int(bool(keys_of(q.subject, q.value, q.unit) & gold[name])))
    return rows, labels


def fit(drafts: dict[str, object], gold: dict[str, set[QuantityKey]], c: float = C,
        threshold: float = THRESHOLD, command: str = "") -> dict:
    """The artifact's content learned from the drafts; no weights (every quantity kept) when the
    examples hold only one class."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, labels = examples(drafts, gold)
    weights: dict[str, float] = {}
    if len(set(labels)) == 2:
        vectorizer = DictVectorizer(sort=True)
        x = vectorizer.fit_transform([dict.fromkeys(keys, 1.0) for keys in rows])
        model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000, solver="lbfgs")
        model.fit(x, labels)
        weights = {name: round(float(w), 5) for name, w in zip(vectorizer.feature_names_, model.coef_[0], strict=True)
                   if abs(w) >= 1e-5}
    return {"format": quantity_model.FORMAT, "command": command, "documents": len(set(drafts) & set(gold)),
            "examples": len(labels), "threshold": threshold if weights else 0.0,
            "weights": dict(sorted(weights.items()))}


def write_model(content: dict, out: Path) -> Path:
    """models/quantities.json, one weight a line so that a diff shows what changed."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / quantity_model.MODEL_FILE
    head = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in content.items() if k != "weights"]
    items = [f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in content["weights"].items()]
    lines = ["{", *head, '"weights": {', ",\n".join(items), "}", "}"] if items else \
        ["{", *head, '"weights": {}', "}"]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def fitted(drafts: dict[str, object], gold: dict[str, set[QuantityKey]] | None):
    """The quantity model fitted on the drafts, or None without annotated quantities (loso)."""
    if not gold:
        return None
    return quantity_model.QuantityModel(fit(drafts, gold))


def train(drafts: dict[str, object], gold_paths: list[Path], out: Path, command: str = "") -> Path:
    """Write OUT/quantities.json from the gold files' annotated quantities (govgraph train); with
    none annotated it holds no weights and keeps every quantity."""
    return write_model(fit(drafts, read_gold(gold_paths), command=command), out)
