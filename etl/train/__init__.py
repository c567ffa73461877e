"""Train stage: annotated reports in, the extractor's learned artifact out (``govgraph train``).

Takes gold jsonl files (one annotated document a line, ONTOLOGY.md "Gold files"), the folders
of their raw reports, and optionally a corrections file from ``govgraph review`` (a document a
researcher corrected is one more annotated document); returns models/entities.json, which
etl.extract.learned loads at run time: the weights of a logistic regression that accepts a
candidate entity in context, and the names annotators gave each label with how often.

Every document is read by the rules once (``read_drafts``); training and leave-one-slice-out
runs (``loso``) then only count, featurize and fit. The fit is deterministic: documents and
features in sorted order, a convex objective solved by lbfgs, weights rounded in the artifact.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from etl.errors import DataFileError
from etl.extract import learned
from etl.graph import model

DEFAULT_THRESHOLD = 0.35
DEFAULT_C = 0.5
# A name the lexicon knows is kept at a lower probability: the lexicon was curated, and
# leave-one-slice-out scores the same with it while reports written like the seeds keep theirs.
LEXICON_THRESHOLD = 0.2
# A name is mined (looked for in new reports) when this many training reports annotate it.
MINE_DOCUMENTS = 1
# A head word must end names of a label in this many training documents to propose spans.
HEAD_DOCUMENTS = 2
# A head word's tag and last character propose spans when they end names in this many documents.
END_DOCUMENTS = 3
# Spans of a label run as many words as cover this share of its annotated names, at most SPAN_WORDS_MOST.
COVERED = 0.95
SPAN_WORDS_MOST = 8
# A kind of open span (learned.cut_keys) is proposed in new reports when the fitted model gave one of
# its training spans this probability or more, and judged by that when training held this many.
SPAN_FLOOR = 0.1
SPAN_SUPPORT = 3
# A candidate every mention of which runs on into one character (learned.after_all) is never kept
# when training held this many such candidates of its label and that character, none annotated.
NEVER_SUPPORT = 10


def key_of(name: str, label: str) -> str:
    """A name as the scorer compares it: NFKC, no spaces or outer quotes, a Mechanism without
    its generic tail."""
    s = unicodedata.normalize("NFKC", name).replace(" ", "").strip("“”\"'《》")
    # The generic tails a name is compared without (the scorer's and ONTOLOGY's rule).
    for tail in model.COMPARED_WITHOUT_TAILS.get(label, ()):
        if s.endswith(tail) and len(s) > len(tail) + 1:
            return s[:-len(tail)]
    return s


@dataclass
class Annotated:
    """One document for training: what the rules read and the names it should keep, per label."""

    name: str
    draft: object  # etl.extract.assemble.Draft
    gold: dict[str, list[tuple[str, ...]]]  # label → entities, each its names as written (variants)
    # A corrected report: its reviewer judged the rules' candidates only, so only those are examples
    # (a mined name or span it holds is not known to be wrong because the record lacks it).
    reviewed: bool = False

    def keys(self, label: str) -> set[str]:
        return {key_of(n, label) for group in self.gold.get(label, ()) for n in group}


def read_gold_file(path: Path, read: Callable[[dict], object], needs: str = "") -> dict[str, object]:
    """doc → ``read`` of each document of a gold file (ONTOLOGY.md "Gold files"), one a line. A line
    that is not JSON, or that ``read`` cannot read, raises DataFileError naming the file, the line
    and ``needs`` (what a document must hold for this reader)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read the gold file ({exc})") from exc
    found: dict[str, object] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            found[obj["doc"]] = read(obj)
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            raise DataFileError(f"{path}:{n}: not a gold document{needs} ({exc!r})") from exc
    return found


def read_gold(path: Path) -> dict[str, dict[str, list[tuple[str, ...]]]]:
    """doc → label → every annotated entity as its variants; errors name the file and line."""
    return read_gold_file(path, _entities)  # type: ignore[return-value]


def _entities(obj: dict) -> dict[str, list[tuple[str, ...]]]:
    return {label: [tuple(v for v in str(name).split("|") if v) for name in names]
            for label, names in obj.get("entities", {}).items() if label in learned.LABELS}


def read_drafts(raw_dirs: Iterable[Path], wanted: Callable[[str], bool] = lambda name: True,
                progress: Callable[[str], None] = lambda name: None) -> tuple[dict[str, object], list[str]]:
    """Every wanted document under the folders as the rules read it (doc name → Draft), and one
    line for each file that could not be read (the rest go on)."""
    from etl.extract import _assembler, _nlp, _read
    from etl.input import normalize, segment
    from etl.input.read import scan

    found = scan(list(raw_dirs))
    failures = [f"{fault.shown}: {fault.reason}" for fault in found.faults]
    drafts: dict[str, object] = {}
    for source in found.sources:
        if not wanted(source.name):
            continue
        progress(source.name)
        try:
            norm = normalize.normalize(_read(source.path))
            sentences = segment.segment(norm.text)
            drafts[source.name] = _assembler().draft(norm, sentences, _nlp()(norm.text))
        except Exception as exc:  # noqa: BLE001 - a document that fails is reported, the rest train
            failures.append(f"{source.shown}: {type(exc).__name__}: {str(exc)[:200]}")
    return drafts, failures


def corrected_gold(drafts: dict[str, object], corrections: Path) -> dict[str, dict[str, list[tuple[str, ...]]]]:
    """The documents a corrections file names, as annotated documents: the rules' record with
    the researcher's corrections made; what the record then holds is what it should hold."""
    from etl.extract import _assembler
    from etl.research.corrections import Corrector

    corrector = Corrector.from_file(corrections)
    named = {c.fields.get("doc") for c in corrector.corrections} - {None}
    gold = {}
    for name in sorted(named & set(drafts)):
        record = corrector.apply(_assembler().finish(drafts[name], None))
        gold[name] = {label: [(n,) for n in names] for label, names in record.entities.items()
                      if label in learned.LABELS}
    return gold


def _names_in(docs: list[Annotated], names: Iterable[str]) -> list[set[str]]:
    """Per document, the names (of two characters or more) its text contains."""
    automaton = ahocorasick.Automaton()
    for name in sorted(set(names)):
        if len(name) >= 2:
            automaton.add_word(name, name)
    if not len(automaton):
        return [set() for _ in docs]
    automaton.make_automaton()
    return [{name for _, name in automaton.iter(doc.draft.norm.text)} for doc in docs]


def _annotated_names(doc: Annotated) -> set[tuple[str, str]]:
    return {(label, name) for label, groups in doc.gold.items() for group in groups for name in group}


def count_names(docs: list[Annotated]) -> learned.NameCounts:
    """For every name annotated in the documents: the documents that annotate it per label, and
    the documents whose text contains it."""
    gold: Counter = Counter()
    for doc in docs:
        gold.update(_annotated_names(doc))
    seen: Counter = Counter()
    for found in _names_in(docs, (name for _, name in gold)):
        seen.update(found)
    return learned.NameCounts(dict(gold), dict(seen), aliases_of(docs))


def aliases_of(docs: list[Annotated]) -> frozenset[tuple[str, str, str]]:
    """(label, a, b), a < b: two names that more documents list as one entity of the label than
    as two. 河长制 and 湖长制 are one entity's names in one report and two entities in four: a
    report that names both keeps both."""
    together: Counter = Counter()
    apart: Counter = Counter()
    for doc in docs:
        for label, groups in doc.gold.items():
            together.update({(label, a, b) for group in groups for a in group for b in group if a < b})
            apart.update({(label, min(a, b), max(a, b)) for i, group in enumerate(groups) for other in groups[i + 1:]
                          for a in group for b in other if a != b})
    return frozenset(pair for pair, n in together.items() if n > apart[pair])


def group_of(docs: list[Annotated]) -> Callable[[str], str]:
    """What a document's features leave out of the name counts: its slice, or the document alone
    when all documents are of one slice (then a slice would leave nothing to count)."""
    return slice_of if len({slice_of(doc.name) for doc in docs}) > 1 else str


def group_counts(docs: list[Annotated], counts: learned.NameCounts,
                 group: Callable[[str], str]) -> dict[str, tuple[Counter, Counter]]:
    """Per group of documents, what they add to the name counts: documents annotating
    (label, name), documents containing the name."""
    out: dict[str, tuple[Counter, Counter]] = defaultdict(lambda: (Counter(), Counter()))
    for doc, found in zip(docs, _names_in(docs, (name for _, name in counts.gold)), strict=True):
        gold, seen = out[group(doc.name)]
        gold.update(_annotated_names(doc))
        seen.update(found)
    return dict(out)


@dataclass(frozen=True)
class Heads:
    """What open-vocabulary spans of a label may end in and how long they run (SpanProposer)."""

    words: dict[str, list[str]]  # label → head words
    ends: dict[str, list[str]]  # label → "tag last-character" of head words
    lengths: dict[str, int]  # label → the most words a span runs


def _aligned(docs: list[Annotated]) -> Iterable[tuple[str, str, str, str, int]]:
    """Per document, every annotated name written on the analyser's word boundaries, once per
    (label, name): its document, label, last word, that word's tag and its number of words."""
    for doc in docs:
        view = learned.DocumentView.of(doc.draft, frozenset())
        text, index = view.text, view.word_index
        for label, groups in sorted(doc.gold.items()):
            for name in sorted({n for group in groups for n in group if len(n) >= 2}):
                at = text.find(name)
                first, last = (index.index_at(at), index.index_ending(at + len(name))) if at >= 0 else (None, None)
                if first is not None and last is not None:
                    word = view.words[last]
                    yield doc.name, label, text[word.start:word.end], word.tag, last - first + 1


def head_words(docs: list[Annotated], least: int = HEAD_DOCUMENTS, end_least: int = END_DOCUMENTS) -> Heads:
    """Per label, the analyser's last words of annotated names in at least ``least`` documents,
    the (tag, last character) of those words in at least ``end_least`` documents, and how many
    words cover COVERED of the label's names (at most SPAN_WORDS_MOST)."""
    heads: dict[tuple[str, str], set[str]] = defaultdict(set)
    ends: dict[tuple[str, str], set[str]] = defaultdict(set)
    lengths: dict[str, list[int]] = defaultdict(list)
    for doc, label, head, tag, n in _aligned(docs):
        heads[label, head].add(doc)
        ends[label, f"{tag} {head[-1]}"].add(doc)
        lengths[label].append(n)
    words_of: dict[str, list[str]] = defaultdict(list)
    for (label, head), found in sorted(heads.items()):
        if len(found) >= least:
            words_of[label].append(head)
    ends_of: dict[str, list[str]] = defaultdict(list)
    for (label, ending), found in sorted(ends.items()):
        if len(found) >= end_least and not ending.startswith("w "):
            ends_of[label].append(ending)
    most = {label: min(sorted(ns)[min(int(len(ns) * COVERED), len(ns) - 1)], SPAN_WORDS_MOST)
            for label, ns in sorted(lengths.items())}
    return Heads(dict(words_of), dict(ends_of), most)


def examples(docs: list[Annotated], counts: learned.NameCounts, known: frozenset,
             heads: Heads | None = None, mine_least: int = 1) -> tuple[list[dict], list[int], list[set]]:
    """Every candidate of every document, featurized as in a report of a new slice, whether the
    document's annotations hold it, and for an open span the kinds of its mentions (cut_keys).

    A document's features leave its whole slice out of the name counts (slice_of: the file
    name's two-letter prefix; group_of), not only the document itself: the reports of one slice
    share names and their annotators' habits, so counts that include them teach the model to
    trust a name's record more than a report of an unseen kind allows."""
    names: dict[str, list[str]] = defaultdict(list)
    for label, name in sorted(counts.gold):
        names[name].append(label)
    finder = learned.NameFinder(dict(names))
    proposer = learned.SpanProposer(heads.words, heads.ends, heads.lengths) if heads else None
    group = group_of(docs)
    by_group = group_counts(docs, counts, group)
    rows, labels, kinds = [], [], []
    for doc in docs:
        view = learned.DocumentView.of(doc.draft, known)
        own_gold, own_seen = by_group[group(doc.name)]
        found = learned.Candidates.of(view, doc.draft.mentions)
        # A name only this slice annotates is no mined name for its documents.
        found.add((m for m in finder.find(view)
                   if counts.gold.get((m.type, m.name), 0) - own_gold[m.type, m.name] >= mine_least),
                  mined=True)
        if proposer is not None:
            found.add_open(view, proposer)
        inside = found.inside()
        for key in sorted(found.mentions):
            label, name = key
            if doc.reviewed and key not in found.ruled:
                continue
            own = (own_gold[key], own_seen[name])
            rows.append(learned.features(label, name, found.mentions[key], view, counts,
                                         found.source(key), own, inside[key]))
            labels.append(int(key_of(name, label) in doc.keys(label)))
            kinds.append(_span_kinds(label, found.mentions[key], view) if found.source(key) == "span" else set())
    return rows, labels, kinds


def _span_kinds(label: str, mentions: list, view: learned.DocumentView) -> set[tuple]:
    """The kinds (learned.cut_keys) of an open span's mentions."""
    found = set()
    for m in mentions:
        first, last = view.word_index.index_at(m.start), view.word_index.index_ending(m.end)
        if first is not None and last is not None:
            found.update(learned.cut_keys(label, view.words, view.text, first, last))
    return found


def span_cuts(kinds: list[set], probabilities: Iterable[float], floor: float = SPAN_FLOOR,
              support: int = SPAN_SUPPORT) -> dict[tuple, bool]:
    """Per kind of open span held by ``support`` training spans or more: whether the fitted
    model gave one of them ``floor`` or more. Most spans are of kinds that never come near the
    threshold; not proposing them in new reports spares judging them."""
    best: dict[tuple, float] = defaultdict(float)
    held: Counter = Counter()
    for found, p in zip(kinds, probabilities, strict=True):
        for kind in found:
            best[kind] = max(best[kind], p)
            held[kind] += 1
    return {kind: best[kind] >= floor for kind in sorted(best, key=repr) if held[kind] >= support}


def never_after(rows: list[dict], labels: list[int], support: int = NEVER_SUPPORT) -> list[tuple[str, str]]:
    """(label, character) whose candidates, every mention running on into the character, number
    ``support`` or more in training and none of which annotators took (Actor 河长 written only
    in 河长制: the role is not taken from the system's name)."""
    held: Counter = Counter()
    taken: Counter = Counter()
    for row, y in zip(rows, labels, strict=True):
        for key in row:
            label, _, feature = key.partition("|")
            if feature.startswith("after_all="):
                held[label, feature.partition("=")[2]] += 1
                taken[label, feature.partition("=")[2]] += y
    return sorted(pair for pair, n in held.items() if n >= support and not taken[pair])


def fit(docs: list[Annotated], known: frozenset, threshold: float = DEFAULT_THRESHOLD, c: float = DEFAULT_C,
        command: str = "", spans: bool = True) -> dict:
    """The artifact's content, learned from the documents (sorted by name: the same documents
    give the same bytes)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    docs = sorted(docs, key=lambda d: d.name)
    counts = count_names(docs)
    heads = head_words(docs) if spans else Heads({}, {}, {})
    rows, labels, kinds = examples(docs, counts, known, heads, MINE_DOCUMENTS)
    vectorizer = DictVectorizer(sort=True)
    x = vectorizer.fit_transform(rows)
    weights: dict[str, float] = {}
    cuts: dict[tuple, bool] = {}
    if len(set(labels)) == 2:
        model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000, solver="lbfgs")
        model.fit(x, labels)
        weights = {name: round(float(w), 5) for name, w in zip(vectorizer.feature_names_, model.coef_[0], strict=True)
                   if abs(w) >= 1e-5}
        cuts = span_cuts(kinds, model.predict_proba(x)[:, 1])
    return {
        "format": learned.FORMAT,
        "command": command,
        "documents": len(docs),
        "examples": len(labels),
        "threshold": threshold,
        "lexicon_threshold": min(threshold, LEXICON_THRESHOLD),
        "mine_least": MINE_DOCUMENTS,
        "weights": dict(sorted(weights.items())),
        "gold": [[label, name, n] for (label, name), n in sorted(counts.gold.items())],
        "seen": [[name, n] for name, n in sorted(counts.seen.items())],
        "aliases": [list(triple) for triple in sorted(counts.aliases)],
        "heads": heads.words,
        "ends": heads.ends,
        "span_words": heads.lengths,
        "span_cuts": [[*kind, int(reached)] for kind, reached in cuts.items()],
        "never_after": [list(pair) for pair in never_after(rows, labels)],
        "rejected": [list(pair) for pair in rejected_names(docs, counts)],
    }


def rejected_names(docs: list[Annotated], counts: learned.NameCounts) -> list[tuple[str, str]]:
    """(label, name) the rules gave a reviewed document and the researcher's corrections took out
    (rejected, renamed or retyped), which no document's annotations or corrections hold: a
    researcher who rejects a name in the reports they read means it gone from the others too."""
    out = set()
    for doc in docs:
        if doc.reviewed:
            out.update((m.type, m.name) for m in doc.draft.mentions
                       if m.type in learned.LABELS and key_of(m.name, m.type) not in doc.keys(m.type))
    return sorted(pair for pair in out if pair not in counts.gold)


def annotated(drafts: dict[str, object], gold: dict[str, dict[str, list[tuple[str, ...]]]]) -> list[Annotated]:
    return [Annotated(name, drafts[name], gold[name]) for name in sorted(gold) if name in drafts]


def known_names() -> frozenset:
    from etl.extract import _assembler

    return _assembler().known_names


def write_model(content: dict, out: Path) -> Path:
    """models/entities.json, one name a line so that a diff shows what changed."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / learned.MODEL_FILE
    tables = ("weights", "gold", "seen", "aliases", "heads", "ends", "span_words", "span_cuts", "never_after")
    head = {k: v for k, v in content.items() if k not in tables}
    lines = ["{"]
    lines += [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    for key in tables:
        value = content[key]
        items = ([f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()]
                 if isinstance(value, dict) else [json.dumps(v, ensure_ascii=False) for v in value])
        opener, closer = ("{", "}") if isinstance(value, dict) else ("[", "]")
        lines.append(f"{json.dumps(key)}: {opener}")
        lines += [f"  {item}," for item in items[:-1]] + ([f"  {items[-1]}"] if items else [])
        lines.append(closer + ("," if key != tables[-1] else ""))
    lines.append("}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def slice_of(doc: str) -> str:
    """A training document's slice: its file name's two-letter prefix (ta01.txt → ta)."""
    return doc[:2]


Gold = dict[str, dict[str, list[tuple[str, ...]]]]


def loso(drafts: dict[str, object], gold: Gold, threshold: float = DEFAULT_THRESHOLD,
         c: float = DEFAULT_C, quantity_gold: dict | None = None) -> dict[str, list]:
    """Leave one slice out: for each slice, a model fitted on the others finishes its documents,
    with a quantity model fitted on them too when ``quantity_gold`` (quantities.read_gold) is given.
    Returns slice → its records (etl.graph.records.DocumentRecord)."""
    from etl.extract import _assembler
    from etl.train import quantities

    docs = annotated(drafts, gold)
    known = known_names()
    out: dict[str, list] = {}
    for held in sorted({slice_of(d.name) for d in docs}):
        content = fit([d for d in docs if slice_of(d.name) != held], known, threshold, c)
        model = learned.EntityModel(content)
        counted = quantities.fitted({d.name: d.draft for d in docs if slice_of(d.name) != held}, quantity_gold)
        out[held] = [_assembler().finish(d.draft, model, counted) for d in docs if slice_of(d.name) == held]
    return out


@dataclass
class TrainSummary:
    path: Path
    documents: int
    corrected: int
    examples: int
    failures: list[str]
    missing: list[str]


def train_models(gold_paths: list[Path], raw_dirs: list[Path], out: Path, corrections: Path | None = None,
                 threshold: float = DEFAULT_THRESHOLD, c: float = DEFAULT_C, command: str = "",
                 progress: Callable[[str], None] = lambda name: None) -> TrainSummary:
    """Fit the entity model on the annotated documents found under the raw folders (and the
    documents a corrections file corrects) and write it to OUT/entities.json.

    A gold document with no raw file is named in ``missing``; a raw file that cannot be read
    in ``failures``; the others train. Annotations win over corrections for one document."""
    gold: dict[str, dict[str, list[tuple[str, ...]]]] = {}
    for path in gold_paths:
        gold.update(read_gold(path))
    named: set[str] = set()
    if corrections is not None:
        from etl.research.corrections import read_corrections

        named = {c.fields["doc"] for c in read_corrections(corrections) if c.fields.get("doc")}
    drafts, failures = read_drafts(raw_dirs, lambda name: name in gold or name in named, progress)
    annotated_names = set(gold)
    if corrections is not None:
        for name, entities in corrected_gold(drafts, corrections).items():
            gold.setdefault(name, entities)
    docs = annotated(drafts, gold)
    for doc in docs:
        doc.reviewed = doc.name not in annotated_names
    if not docs:
        raise DataFileError("no annotated document was found under the raw folders; the gold's \"doc\" names "
                            "must be file names there")
    content = fit(docs, known_names(), threshold, c, command)
    path = write_model(content, out)
    from etl.train import quantities

    quantities.train(drafts, gold_paths, out, command)
    return TrainSummary(path, len(docs), len(set(gold) - annotated_names), content["examples"], failures,
                        sorted(set(gold) - set(drafts)))
