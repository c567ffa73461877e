"""From the pipeline's mentions and quantities to one DocumentRecord.

Takes the normalized document, its sentences and the spaCy Doc; returns the record:
entities by type with their properties, mentions with offsets and sentence indices, the
reporting region, the quantities with their subject (etl.extract.attribution) and the
relations with the sentences that support them (etl.extract.relations).
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

import ahocorasick
from spacy.tokens import Doc

from etl.extract import candidates, learned, places, quantity_model, regions
from etl.extract import lexicon as lexicon_data
from etl.extract.attribution import NO_QUOTES, QuantityAttributor
from etl.extract.pipeline import SPANS_KEY, doc_text
from etl.extract.relations import RelationBuilder
from etl.extract.reporting_region import implied_parents, reporting_region
from etl.graph import model
from etl.graph.model import L
from etl.graph.records import DocumentRecord, Mention, RegionRef, Sentence
from etl.input import dates
from etl.input.normalize import NormalizedDocument

# The category of a name no rule and no lexicon entry places (ONTOLOGY's tenth column).
UNSORTED = model.UNSORTED

NAMED_IN_TITLES = (L.Region, L.WaterBody, L.Mechanism)
# How many sentences open a document (with its title, what the reporting region and the relations read
# of what a document is and whose work it tells of).
OPENING_SENTENCES = 3


def _mentions(doc: Doc, starts: list[int]) -> list[Mention]:
    """Spans as mentions, nested ones dropped except actors inside a linkage."""
    text = doc_text(doc)
    spans = sorted(((s.start_char, s.end_char, s.label_, s.id_) for s in doc.spans[SPANS_KEY]),
                   key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[Mention] = []
    containers: list[tuple[int, int, str]] = []
    for start, end, label, name in spans:
        # Spans come by start, so a container that ended before this one starts holds nothing more.
        containers = [c for c in containers if c[1] > start]
        inside = [c for c in containers if c[0] <= start and end <= c[1]]
        # A policy's 《title》 names regions, water bodies and mechanisms of its own (《XX区…以奖代补…
        # 方案》); a programme's name names its mechanism (公益诉讼专项行动), not a river (清河行动).
        if inside and not (label in NAMED_IN_TITLES and all(
                c[2] == L.Policy and (label == L.Mechanism or text[c[0] - 1:c[0]] == "《") for c in inside)):
            # The parts of a linkage (河长+检察长, 条田+路渠+防护林) are entities in their own right.
            linkage = any(c[2] == "linkage" for c in inside)
            # …and a place that names a body (七步镇政府) is a region of its own.
            in_body = label == L.Region and all(c[2] == L.Actor for c in inside)
            if not (linkage and label in (L.Actor, L.Measure)) and not in_body:
                continue
        kind = "linkage" if label == L.Mechanism and "+" in name else label
        containers.append((start, end, kind))
        sentence = bisect.bisect_right(starts, start) - 1
        kept.append(Mention(type=label, name=name, text=text[start:end], sentence=max(sentence, 0),
                            start=start, end=end))
    return kept


def category_by_rule(rules: dict[str, list[str]], name: str) -> str:
    """The first category (in the grammar's order) with a word in the name, else 未分类."""
    return next((category for category, words in rules.items() if any(w in name for w in words)), UNSORTED)


def _opening(sentences: list[Sentence]) -> str:
    """The sentences that open a document, where it says what it is and whose work it tells of."""
    return " ".join(s.text for s in sentences[:OPENING_SENTENCES])


def _reporting(norm: NormalizedDocument, sentences: list[Sentence], doc: Doc):
    found = doc._.region_mentions
    region_mentions = regions.resolve_regions(found if found is not None else regions.find_region_mentions(norm.text))
    reporting = reporting_region(norm.title, _opening(sentences), region_mentions, norm.text, norm.source or "")
    if reporting:
        implied = implied_parents(reporting, norm.text)
        region_mentions = region_mentions + [places.RegionMention(0, 0, p.name, p) for p in implied]
    return reporting, region_mentions


def _one_qualified(a: str, b: str) -> bool:
    """One name is the other with two characters or more before it, the shorter four or more."""
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and len(long_) - len(short) >= 2 and long_.endswith(short)


def _core(name: str, variants: list[str]) -> str:
    """A name without the words that vary between writings of one work or programme (rules.yaml's
    name_variant_words: 综合, 建设), removed in their order."""
    for word in variants:
        name = name.replace(word, "")
    return name


def _same_region(mention: Mention, reporting: places.RegionInfo | None) -> bool:
    """A redacted document redacts its own name: an anonymized region of the reporting
    region's level is the reporting region (某区 and XX区 in one report are one place)."""
    return bool(
        reporting and reporting.anonymized and mention.type == L.Region
        and places.redacted_name(mention.name, reporting.level)
    )


@dataclass
class Draft:
    """A document as the rules read it: its mentions, quantities and reporting region."""

    norm: NormalizedDocument
    sentences: list[Sentence]
    mentions: list[Mention]
    quantities: list
    reporting: places.RegionInfo | None
    region_mentions: list
    year: int | None
    words: list = field(default_factory=list)  # the analyser's words (etl.extract.analyser.Word)
    places: list = field(default_factory=list)  # where each quantity stands (attribution.Place)


def _between_entities(relations: list, entities: dict[str, dict]) -> list:
    """The relations whose ends are entities of the labels their type joins. A rule that names a
    partner no mention found (乡镇 in a list of who takes part) must not make a record that the
    loader refuses, which would lose the whole document."""
    def among(name: str, labels: tuple[str, ...]) -> bool:
        return any(name in entities.get(label, ()) for label in labels)

    return [r for r in relations
            if r.type not in model.RELATION_ENDS
            or (among(r.head, model.RELATION_ENDS[r.type][0]) and among(r.tail, model.RELATION_ENDS[r.type][1]))]


class Assembler:
    """One document's record from the pipeline's Doc and the attribution and relation stages."""

    def __init__(self) -> None:
        self.lexicon = lexicon_data.load_lexicon()
        self.rules = lexicon_data.load_rules()
        self.units = lexicon_data.load_units()
        self.attributor = QuantityAttributor(self.lexicon, self.rules, self.units)
        self.relation_builder = RelationBuilder(self.lexicon, self.rules)
        self.policy_kinds = [(kind, re.compile("|".join(f"(?:{p})" for p in patterns)))
                             for kind, patterns in self.rules["policy_kinds"].items()]
        self.level_body = re.compile(self.rules["level_body"])
        self.superior_context = re.compile(self.rules["superior_context"])

    def record(self, norm: NormalizedDocument, sentences: list[Sentence], doc: Doc,
               model: learned.EntityModel | None | bool = True) -> DocumentRecord:
        """The document's record. ``model``: the learned entity model that accepts candidates
        (True: the one in the models folder, if any, with the quantity model there; None or False:
        the rules alone)."""
        quantities = None
        if model is True:
            model, quantities = learned.default_model(), quantity_model.default_model()
        return self.finish(self.draft(norm, sentences, doc), model or None, quantities)

    def draft(self, norm: NormalizedDocument, sentences: list[Sentence], doc: Doc) -> Draft:
        """What the rules found in a document, before a learned model accepts its entities: kept
        apart so that training and leave-one-slice-out runs analyse each document once."""
        starts = [s.start for s in sentences]
        mentions = self._as_written(_mentions(doc, starts))
        reporting, region_mentions = _reporting(norm, sentences, doc)
        for i, m in enumerate(mentions):
            if _same_region(m, reporting):
                mentions[i] = m.model_copy(update={"name": reporting.name})
        year = dates.document_year(norm.date, norm.title)
        quantities, extra_mentions, placed = self.attributor.attribute(norm.text, sentences, doc._.quantities or [],
                                                               mentions, year, doc._.words or [])
        mentions.extend(extra_mentions)
        mentions.extend(self._instruments_in_rates(mentions) + self._actors_in_mechanisms(mentions))
        mentions = [m for m in mentions if not self._superior_body(m, reporting, sentences)]
        mentions.sort(key=lambda m: m.start)
        return Draft(norm, sentences, mentions, quantities, reporting, region_mentions, year, doc._.words or [],
                     placed)

    def finish(self, draft: Draft, model: learned.EntityModel | None,
               quantities_model: quantity_model.QuantityModel | None = None) -> DocumentRecord:
        """The record from a draft: the model (when there is one) adds the names it learned and
        keeps the candidates it accepts, the quantity model (when there is one) the numbers it
        does not find spurious; then entities, relations and properties."""
        norm, sentences, reporting = draft.norm, draft.sentences, draft.reporting
        region_mentions = draft.region_mentions
        mentions = draft.mentions
        quantities = quantities_model.kept(draft) if quantities_model is not None else draft.quantities
        if model is not None:
            # A subject is sure only while a number hangs on it: one whose every number the quantity
            # model dropped is judged as any name (learned.EntityModel.judge).
            counted = dataclasses.replace(draft, quantities=quantities)
            mentions, doubted = model.judge(learned.DocumentView.of(counted, self.known_names), mentions)
            # A number whose subject the model doubts goes with it (learned.EntityModel.doubts).
            quantities = [q for q in quantities if not (q.subject_type == L.Indicator and q.subject in doubted)]
        mentions = self._issued_documents(mentions)
        entities: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for m in mentions:
            entities[m.type].setdefault(m.name, []).append(m.sentence)
        if reporting:
            entities[L.Region].setdefault(reporting.name, [])
            for m in region_mentions:
                if m.end == 0:
                    entities[L.Region].setdefault(m.region.name, [])
        for q in quantities:
            # A quantity's subject is an entity of its type whatever the model kept: its number hangs on it.
            entities[q.subject_type].setdefault(q.subject, list(q.evidence))
        relations = _between_entities(
            self.relation_builder.build(entities, mentions, sentences, reporting, region_mentions, draft.year,
                                        heading=norm.title + "\n" + _opening(sentences)),
            entities)
        properties = self._properties(entities, region_mentions, reporting)
        return DocumentRecord(
            lexicon_version=self.lexicon.version,
            doc=norm.name,
            doc_id=norm.doc_id,
            title=norm.title,
            date=norm.date,
            source=norm.source,
            lang_variant=norm.lang_variant,
            region=RegionRef(name=reporting.name, level=reporting.level, anonymized=reporting.anonymized,
                             adcode=reporting.adcode) if reporting else None,
            sentences=sentences,
            mentions=mentions,
            entities={label: sorted(names) for label, names in sorted(entities.items())},
            properties=properties,
            relations=relations,
            quantities=quantities,
        )

    def _issued_documents(self, mentions: list[Mention]) -> list[Mention]:
        """A notice issuing a document is named as the document it issues (rules.yaml's
        policy_issued_notice): …关于印发《X》的通知 → X."""
        issued = self.issued_notice
        out = []
        for m in mentions:
            match = issued.match(m.name) if m.type == L.Policy else None
            out.append(m.model_copy(update={"name": match.group("title")}) if match else m)
        return out

    @functools.cached_property
    def issued_notice(self) -> re.Pattern[str]:
        return re.compile(self.rules["policy_issued_notice"])

    @functools.cached_property
    def known_names(self) -> frozenset[tuple[str, str]]:
        """(label, canonical name) of every lexicon entry: a feature of a candidate."""
        return frozenset(self.lexicon.by_surface.values())

    def _as_written(self, mentions: list[Mention]) -> list[Mention]:
        """One name per entity of a document, in the document's own words: the lexicon's canonical
        name groups the surfaces of one entity (河长办, 河长制办公室), and the group is named by its
        most frequent surface, as readers and annotators name it. A surface that only wraps the
        canonical name in other words (全面推行河长制) is named by the canonical name, and so is an
        indicator: a metric has one name whatever the word order (治理水土流失面积 → 水土流失治理面积)."""
        surfaces: dict[tuple[str, str], collections.Counter] = defaultdict(collections.Counter)
        for m in mentions:
            if m.type not in (L.Region, L.Indicator) and "+" not in m.name:
                surfaces[m.type, m.name][self._surface_name(m)] += 1
        chosen = {key: counts.most_common(1)[0][0] for key, counts in surfaces.items()}
        variants = self.rules["name_variant_words"]
        self._merge_comprehensive(chosen, surfaces, variants)
        self._merge_qualified(chosen, variants)
        # Copied only where the name changes: most mentions keep theirs, and a copy is not free.
        return [m.model_copy(update={"name": chosen[m.type, m.name]})
                if chosen.get((m.type, m.name), m.name) != m.name else m for m in mentions]

    @staticmethod
    def _merge_comprehensive(chosen: dict, surfaces: dict, variants: list[str]) -> None:
        """A work or programme written with and without 综合 or 建设 (坡耕地水土流失综合治理 and
        坡耕地水土流失治理, 生态廊道建设 and 生态廊道, 重点建设工程 and 重点工程) is one: its names go
        under the one the document uses most."""
        groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for key in chosen:
            if key[0] in (L.Measure, L.Policy):
                groups[key[0], _core(chosen[key], variants)].append(key)
        for keys in groups.values():
            if len({chosen[k] for k in keys}) > 1:
                name = max(keys, key=lambda k: (sum(surfaces[k].values()), chosen[k]))
                for k in keys:
                    chosen[k] = chosen[name]

    @staticmethod
    def _merge_qualified(chosen: dict, variants: list[str]) -> None:
        """A name written once with where it runs and once without is one entity: a mechanism under
        the shorter name (长江流域横向生态保护补偿 → 横向生态保护补偿), a policy under the longer, its
        title (水土保持重点工程 → 国家水土保持重点工程). The shorter has four characters or more, so
        that 湖长制 stays apart from 河湖长制."""
        for label, pick in ((L.Mechanism, min), (L.Policy, max)):
            cores = {chosen[key]: _core(chosen[key], variants) for key in chosen if key[0] == label}
            merged = {}
            for name, core in cores.items():
                same = [n for n, other in cores.items() if n != name and _one_qualified(other, core)]
                if same:
                    merged[name] = pick(same + [name], key=lambda n: (len(n), n))
            for key in chosen:
                if key[0] == label and chosen[key] in merged:
                    chosen[key] = merged[chosen[key]]

    def _surface_name(self, mention: Mention) -> str:
        surface = mention.text.translate(NO_QUOTES)
        own = (mention.type, mention.name)
        for tail in self.rules["generic_tails"]:  # 湿地生态修复工程 is written 湿地生态修复
            if surface.endswith(tail) and self.lexicon.by_surface.get(surface[:-len(tail)]) == own:
                surface = surface[:-len(tail)]
                break
        if mention.name in surface or "(" in surface or self.lexicon.by_surface.get(surface) != own:
            return mention.name
        return candidates.without_tail(candidates.finder().grammar, mention.type, surface)

    def _group(self, label: str, name: str) -> str | None:
        """The lexicon category of an entity named as written (via the surface it was found by)."""
        group = self.lexicon.group_of.get((label, name))
        if group is None:
            hit = self.lexicon.by_surface.get(name)
            if hit and hit[0] == label:
                group = self.lexicon.group_of.get((label, hit[1]))
        return group

    def _superior_body(self, mention: Mention, reporting: places.RegionInfo | None, sentences) -> bool:
        """A county's report addressed to 市委 (市委：) or done 在市委…的领导下 names a body above the
        region, not one of its actors; where 市委 acts in the text (市委将…) it stays."""
        match = self.level_body.match(mention.name) if mention.type == L.Actor else None
        if not match or not reporting:
            return False
        ranks = self.rules["level_ranks"]
        if ranks.get(match["level"], 99) >= ranks.get(reporting.level, -1):
            return False
        return self.superior_context.search(sentences[mention.sentence].text) is not None

    def _instruments_in_rates(self, mentions: list[Mention]) -> list[Mention]:
        """A rate of applying an instrument (环评率, 三同时执行率) says the instrument is in use:
        the mechanism inside an indicator that ends in 率 is mentioned there too."""
        rates = [m for m in mentions if m.type == L.Indicator and m.text.endswith(self.rules["rate_suffix"])]
        return self._inner(rates, L.Mechanism)

    def _actors_in_mechanisms(self, mentions: list[Mention]) -> list[Mention]:
        """A mechanism named after its actor (行业主管部门协同监管, 政府和受益主体分摊机制) mentions
        that actor; linkages are split by their own rule."""
        return self._inner([m for m in mentions if m.type == L.Mechanism and "+" not in m.name], L.Actor)

    def _inner(self, outer: list[Mention], label: str) -> list[Mention]:
        """The longest lexicon term of ``label`` inside each mention's text, as a mention of its own."""
        automaton = self._surfaces(label)
        found = []
        for m in outer:
            hits = [(end + 1 - len(surface), surface) for end, surface in automaton.iter(m.text)
                    if len(surface) < len(m.text)]
            if hits:
                i, surface = max(hits, key=lambda h: (len(h[1]), -h[0]))
                found.append(Mention(type=label, name=self.lexicon.by_surface[surface][1], text=surface,
                                     sentence=m.sentence, start=m.start + i, end=m.start + i + len(surface)))
        return found

    @functools.cache  # noqa: B019 - one Assembler a process (etl.extract._assembler)
    def _surfaces(self, label: str):
        """The lexicon's surfaces of one label, for one-pass search inside other names."""
        automaton = ahocorasick.Automaton()
        for surface, (hit_label, _) in self.lexicon.by_surface.items():
            if hit_label == label and len(surface) > 1:
                automaton.add_word(surface, surface)
        automaton.make_automaton()
        return automaton

    def _properties(self, entities, region_mentions, reporting):
        properties: dict[str, dict[str, dict]] = defaultdict(dict)
        infos = {m.region.name: m.region for m in region_mentions}
        if reporting:
            infos[reporting.name] = reporting
        for name in entities.get(L.Region, {}):
            info = infos.get(name)
            if info:
                properties[L.Region][name] = {"level": info.level, "adcode": info.adcode,
                                              "anonymized": info.anonymized}
        for label, key in model.LEXICON_GROUPS.items():
            for name in entities.get(label, {}):
                group = self._group(label, name)
                if group:
                    properties[label][name] = {key: group}
        for name in entities.get(L.Mechanism, {}):
            # A linkage the lexicon does not list (河长+检察长) joins actors: a coordination tool.
            parts = name.split("+")
            if "category" not in properties[L.Mechanism].get(name, {}) and len(parts) > 1 and any(
                    self.lexicon.by_surface.get(part, ("",))[0] == L.Actor for part in parts):
                properties[L.Mechanism][name] = {"category": self.rules["linkage_category"]}
        for label, rules in candidates.finder().grammar.categories.items():
            for name in entities.get(label, {}):
                if "category" not in properties[label].get(name, {}):
                    properties[label][name] = {"category": category_by_rule(rules, name), "category_by": "rule"}
        for name in entities.get(L.Policy, {}):
            properties[L.Policy][name] = {"kind": self._policy_kind(name)}
        return dict(properties)

    def _policy_kind(self, title: str) -> str:
        for kind, pattern in self.policy_kinds:
            if pattern.search(title):
                return kind
        return "programme"
