"""Relation building: who adopts, implements, measures, cites, governs, establishes and
involves what in one document, and which region is part of which.

Takes the entities of a document (name → sentence indices, by type), its mentions and
sentences, the reporting region and the regions found; returns the relations (ADOPTS,
IMPLEMENTS, MEASURES, CITES, GOVERNS, ESTABLISHES, INVOLVES, PART_OF), each once, with the
sentences that support it, from the rule words of schema/ (lexicon.load_rules).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict

from etl.extract import reporting_region
from etl.extract.lexicon import Lexicon
from etl.graph.model import REGION_RELATIONS, L, R
from etl.graph.records import Mention, Relation, Sentence
from etl.input import dates

# Which relation a region has to each kind of entity it mentions.
REGION_RELATION = REGION_RELATIONS

# The longest span a mention can have (a linkage or a quoted name), in characters.
MAX_NAME = 100


class ClauseMarks:
    """Where the marks that close a clause (，；。…) stand in each sentence, found once a
    sentence, for "where does this word's clause begin" asked of every mention."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.positions: dict[int, list[int]] = {}

    def last_before(self, sentence: Sentence, local: int) -> int:
        """The last mark before ``local`` (an offset into the sentence), or -1."""
        positions = self.positions.get(sentence.index)
        if positions is None:
            positions = self.positions[sentence.index] = [m.start() for m in self.pattern.finditer(sentence.text)]
        i = bisect.bisect_left(positions, local) - 1
        return positions[i] if i >= 0 else -1


class RelationBuilder:
    """The relation rules of schema/, compiled once a process."""

    def __init__(self, lexicon: Lexicon, rules: dict) -> None:
        self.lexicon = lexicon
        self.rules = rules
        self.establish = re.compile("|".join(rules["establish_verbs"]))
        self.role_count = re.compile(rules["role_count"])
        self.count_before = re.compile(rules["role_count_before"])
        self.duty_after = re.compile(rules["duty_after_role"])
        self.tier = re.compile(rules["chief_tiers"])
        self.level_role = re.compile(rules["level_role"])
        self.standing = re.compile(rules["standing_actors"])
        self.governance = re.compile(rules["governance_words"])
        self.strategy = re.compile(rules["governance_strategies"])
        self.standing_partner = re.compile(rules["not_linkage_partners"])
        self.members = re.compile(rules["chief_system_members"])
        self.chief_system = re.compile(rules["chief_system_name"])
        self.run_by = re.compile(rules["run_by"])
        self.run_by_end = re.compile(rules["run_by_end"])
        self.issuing = re.compile(rules["issuing_document"])
        self.assigned = [re.compile(rules[name]) for name in ("waters_hired_for", "waters_chief_by")]
        self.owned = [(re.compile(rules[procedure]), re.compile(rules[body]))
                      for procedure, body in rules["owned_procedures"]]
        # Marks that close a clause for who-does-what.
        self.involve_mark = re.compile("[" + re.escape(rules["clause_marks"]) + "]")

    def build(self, entities, mentions: list[Mention], sentences: list[Sentence], reporting, region_mentions,
              doc_year: int | None = None, heading: str = "") -> list[Relation]:
        """The document's relations, each once, with the sentences that support it. ``heading``: the
        title and opening sentences, which say whether the document issues a plan or a notice."""
        relations: list[Relation] = []

        def add(head: str, rtype: str, tail: str, evidence, **props) -> None:
            relations.append(Relation(head=head, type=rtype, tail=tail,
                                      props={"evidence": sorted(set(evidence)), **props}))

        if reporting:
            # Issue 14: ADOPTS carries the adoption year its sentences state (etl.input.dates), else none.
            adopted = dates.adoption_years(mentions, sentences, doc_year)
            issued = bool(self.issuing.search(heading))
            for label, rtype in REGION_RELATION.items():
                if rtype == R.IMPLEMENTS and issued:
                    continue  # the measures of a plan or notice it issues are tasks, not work done (convention 11)
                for name, evidence in entities.get(label, {}).items():
                    if rtype == R.GOVERNS and not any(self._governed_in(sentences[i].text) for i in evidence):
                        continue  # a river or mountain named only as background (convention 12)
                    add(reporting.name, rtype, name, evidence,
                        **({"year": adopted.get(name)} if rtype == R.ADOPTS else {}))
            established = self._established(mentions, sentences)
            for actor, evidence in self._tiers(entities, sentences).items():
                established.setdefault(actor, (evidence, None))
            for actor, (evidence, count) in established.items():
                add(reporting.name, R.ESTABLISHES, actor, evidence, count=count)
            named = [m.region for m in region_mentions if m.region.name in entities.get(L.Region, {})]
            for child, parent in reporting_region.part_of(list(dict.fromkeys(named + [reporting])), reporting):
                evidence = self._region_evidence(child, entities, sentences) + self._region_evidence(
                    parent, entities, sentences)
                add(child, R.PART_OF, parent, evidence)
        for actor, water, evidence in self._assigned_waters(mentions, sentences):
            add(actor, R.GOVERNS, water, evidence)
        for head, tail, evidence in self._involves(entities, mentions, sentences):
            if head != tail:  # one name typed both mechanism and actor is one thing seen twice, no participant
                add(head, R.INVOLVES, tail, evidence)
        seen, unique = set(), []
        for r in relations:
            key = (r.head, r.type, r.tail)
            if key not in seen:
                seen.add(key)
                unique.append(r)
        return unique

    def _assigned_waters(self, mentions: list[Mention], sentences: list[Sentence]):
        """A role put in charge of named waters governs them (convention 12): hired or assigned for them
        (为罗干河、新寨河聘请了专职保洁员) or made their chief (山美水库、文溪水库分别由市级河长担任湖长): the
        actors named where the pattern puts the role, the water bodies named where it puts the waters."""
        by_sentence: dict[int, list[Mention]] = defaultdict(list)
        for m in mentions:
            if m.type in (L.Actor, L.WaterBody):
                by_sentence[m.sentence].append(m)
        pairs = []
        for index, named in sorted(by_sentence.items()):
            sentence = sentences[index]
            if not any(m.type == L.Actor for m in named) or not any(m.type == L.WaterBody for m in named):
                continue
            for pattern in self.assigned:
                for match in pattern.finditer(sentence.text):
                    roles = _named_within(named, L.Actor, sentence.start, match.span("role"))
                    waters = _named_within(named, L.WaterBody, sentence.start, match.span("waters"))
                    pairs.extend((actor, water, [index]) for actor in roles for water in waters)
        return pairs

    def _governed_in(self, text: str) -> bool:
        """A sentence says a named area is governed: a governance word stands in it outside the name of a
        national strategy (黄河流域生态保护和高质量发展, 长江大保护), which names the river as its scope."""
        return bool(self.governance.search(self.strategy.sub("", text)))

    @staticmethod
    def _region_evidence(name: str, entities, sentences) -> list[int]:
        """Sentences naming a region; for one known by its short name (会同) or implied
        (市委, 全省), the sentences with that short name or those words."""
        found = entities.get(L.Region, {}).get(name)
        if found:
            return found
        level = name[-1]
        implied = reporting_region.implied_parent_patterns().get(level)
        return [s.index for s in sentences
                if (len(name) > 2 and name[:-1] in s.text) or (implied and implied.search(s.text))]

    def _tiers(self, entities, sentences) -> dict[str, list[int]]:
        """A chief system built in tiers (县乡村三级河长, 市、乡、村三级林长体系) sets up each tier's chiefs:
        the levelled roles of that chief the document names (县级河长, 村级林长), with the sentences
        that name the tiers."""
        tiers = [(s.index, match["chief"]) for s in sentences for match in self.tier.finditer(s.text)]
        found: dict[str, list[int]] = {}
        for actor, evidence in entities.get(L.Actor, {}).items():
            role = self.level_role.search(actor)
            if role and role.end() == len(actor):
                said = [index for index, chief in tiers if chief == role["role"]]
                if said:
                    found[actor] = sorted(set(evidence + said))
        return found

    def _established(self, mentions, sentences) -> dict[str, tuple[list[int], int | None]]:
        """Actors a region sets up or appoints: an establishing verb earlier in the clause (not
        one whose object is a duty or system the role is named in: 明确各级河长职责), or a head
        count right after the role (区级河长13名) or before it (4300多名河湖长)."""
        found: dict[str, tuple[list[int], int | None]] = {}
        marks = ClauseMarks(self.involve_mark)
        mechanisms = sorted((m.start, m.end) for m in mentions if m.type == L.Mechanism)
        mechanism_starts = [start for start, _ in mechanisms]
        for m in mentions:
            if m.type != L.Actor or self.standing.search(m.name):
                continue
            # Mechanisms that start within a long name's reach before the actor (one bisection, not
            # a scan of every mechanism for every actor, which grew with the square of a document).
            lo = bisect.bisect_left(mechanism_starts, m.start - MAX_NAME)
            hi = bisect.bisect_right(mechanism_starts, m.start)
            if any(m.end <= end for _, end in mechanisms[lo:hi]):
                continue  # 建立“河长+检察长”协作机制 sets up the mechanism, not the roles named in it
            sentence = sentences[m.sentence]
            text = sentence.text
            local = m.start - sentence.start
            clause_from = marks.last_before(sentence, local)
            verb = self.establish.search(text, clause_from + 1, local)
            count_match = self.role_count.match(text[m.end - sentence.start:]) or self.count_before.search(
                text, max(local - 12, 0), local)  # 2203名河长、609名河湖警长
            if not verb and not count_match:
                continue
            if not count_match and self.duty_after.match(text[m.end - sentence.start:]):
                continue  # 明确各级河长职责: the verb sets up the duty or system the role is named in
            evidence, count = found.get(m.name, ([], None))
            if count_match:
                count = (count or 0) + int(count_match["count"])
            found[m.name] = (evidence + [m.sentence], count)
        return found

    def _involves(self, entities, mentions, sentences):
        """Linkages involve each part that is an actor (and the bodies behind linked roles);
        a chief system involves the chiefs, offices and member units the document names, a system
        built in tiers the chiefs of its tiers, a procedure the bodies a sentence says run it."""
        actors = entities.get(L.Actor, {})
        pairs = []
        parts = {mechanism: self._linked_actors(mechanism, actors) for mechanism in entities.get(L.Mechanism, {})
                 if "+" in mechanism}
        # An actor joined in another linkage (林长+检察长 beside 林长+管护员) is that one's part, no partner here.
        linked = {actor for found in parts.values() for actor in found}
        for mechanism, evidence in entities.get(L.Mechanism, {}).items():
            own = parts.get(mechanism, set())
            for actor, actor_evidence in actors.items():
                if "+" not in mechanism and len(actor) >= 3 and actor in mechanism:
                    pairs.append((mechanism, actor, evidence + actor_evidence))
            if "+" in mechanism:
                of_actors = False
                for part in mechanism.split("+"):
                    hit = self.lexicon.by_surface.get(part)
                    actor = hit[1] if hit and hit[0] == L.Actor else (part if part in actors else None)
                    if actor is None:
                        continue
                    of_actors = True
                    pairs.append((mechanism, actor, evidence + actors.get(actor, [])))
                    for body in self.rules["role_bodies"].get(actor, []):
                        if body in actors and body not in mechanism.split("+"):
                            pairs.append((mechanism, body, evidence + actors[body]))
                # The partners named in the sentences that set a linkage of actors up take part in it
                # too (推行“林长+检察长”机制，县林业局与县检察院…); a linkage of works (条田+路渠) has none.
                shared = set(evidence) if of_actors else set()
                for actor, actor_evidence in actors.items():
                    common = sorted(shared.intersection(actor_evidence))
                    if common and not self.standing_partner.search(actor) and not (
                            actor in linked and actor not in own):
                        pairs.append((mechanism, actor, common))
            system = self._chief_system(mechanism)
            if system:
                for actor, actor_evidence in actors.items():
                    if any(chief in actor for chief in system["chief"]) or actor in system["also"] or (
                            self._member_of(actor, mechanism)):
                        pairs.append((mechanism, actor, evidence + actor_evidence))
            tier = self.tier.search(mechanism)
            if tier:  # 三级林长体系 is made of the 林长 of its tiers (市级林长, 村级林长)
                pairs.extend((mechanism, actor, evidence + actor_evidence)
                             for actor, actor_evidence in actors.items() if self._chief_of(actor) == tier["chief"])
            for procedure, body in self.owned:
                if procedure.search(mechanism):
                    pairs.extend((mechanism, actor, evidence + actor_evidence)
                                 for actor, actor_evidence in actors.items() if body.search(actor))
        return pairs + self._clause_involves(mentions, sentences) + self._run_by(entities, mentions, sentences)

    def _run_by(self, entities, mentions, sentences):
        """The bodies a sentence says run a procedure, named by its head word with 由 (考核工作由县河长制
        办公室会同县水务局…负责: 河长制工作考核 involves both), when the document names the procedure
        elsewhere and the head stands outside every name of the sentence."""
        heads: dict[str, list[str]] = defaultdict(list)
        for mechanism in entities.get(L.Mechanism, {}):
            if "+" not in mechanism and len(mechanism) > 2:
                heads[mechanism[-2:]].append(mechanism)
        by_sentence: dict[int, list[Mention]] = defaultdict(list)
        for m in mentions:
            by_sentence[m.sentence].append(m)
        pairs = []
        for sentence in sentences:
            if self.rules["run_by_marker"] not in sentence.text:
                continue
            named = by_sentence.get(sentence.index, [])
            for match in self.run_by.finditer(sentence.text):
                head = match["before"] or match["after"]
                at = sentence.start + match.start("before" if match["before"] else "after")
                if head not in heads or any(m.start <= at < m.end for m in named):
                    continue
                begin = sentence.start + sentence.text.index(self.rules["run_by_marker"], match.start())
                end = self.run_by_end.search(sentence.text, begin - sentence.start)
                end = sentence.start + end.start() if end else sentence.end
                for mechanism in heads[head]:
                    if any(m.name == mechanism for m in named):
                        continue  # the clause rule pairs a mechanism its sentence names
                    pairs.extend((mechanism, m.name, entities[L.Mechanism][mechanism] + [sentence.index])
                                 for m in named if m.type == L.Actor and begin < m.start < end)
        return pairs

    def _chief_of(self, actor: str) -> str:
        """The chief an actor is, without its level (县级林长 → 林长, 各级河长 → 河长, 林长 → 林长)."""
        role = self.level_role.search(actor)
        return role["role"] if role and role.end() == len(actor) else actor.removeprefix(self.rules["every_level"])

    def _chief_system(self, mechanism: str) -> dict | None:
        """Who a chief system is made of: the list's entry (河长制: 河长, 河湖长, 领导小组 …), else the
        chief it is named after (库长制: 库长), else None for a mechanism that is no chief system."""
        system = self.rules["chief_systems"].get(mechanism)
        named = None if system else self.chief_system.search(mechanism)
        return {"chief": [named["chief"]], "also": []} if named else system

    def _member_of(self, actor: str, system: str) -> bool:
        """A member unit (各成员单位) takes part in the chief system, unless its name holds another
        chief system (林长制办公室成员单位 is no member of 河湖长制)."""
        return bool(self.members.search(actor)) and not any(
            other in actor for other in self.rules["chief_systems"] if other != system)

    def _linked_actors(self, linkage: str, actors) -> set[str]:
        """The actors a linkage joins (河长+警长 → 河长, 警长), by the lexicon or as the document names them."""
        found = set()
        for part in linkage.split("+"):
            hit = self.lexicon.by_surface.get(part)
            actor = hit[1] if hit and hit[0] == L.Actor else (part if part in actors else None)
            if actor is not None:
                found.add(actor)
        return found

    def _clause_involves(self, mentions, sentences):
        """An actor named in the same clause as one mechanism takes part in it
        (组织志愿者开展义务植树; 与高等院校开展科研合作), when the clause names one mechanism only.
        Not an actor written inside a mechanism's name: a part of a linkage (创新“河长+检察长”“河长+志愿者”
        等联防联治模式: the parts take part in their linkage) or the chief a system, order or assessment
        is named after (五级河长体系, 总河长令, 河长制工作考核: the name says whose it is, not who takes
        part); a body before the name, which the name leaves out, still does (行业主管部门协同监管机制 →
        协同监管). Nor a mechanism named inside a document's title (省委办公厅《关于全面深化落实河长制…》:
        the bodies issue or approve the document)."""
        by_clause: dict[tuple[int, int], list[Mention]] = defaultdict(list)
        marks = ClauseMarks(self.involve_mark)
        named = [(m.start, m.end, m.name) for m in mentions if m.type == L.Mechanism]
        titles = [(m.start, m.end, "") for m in mentions if m.type == L.Policy]
        for m in mentions:
            if m.type not in (L.Mechanism, L.Actor):
                continue
            within = named if m.type == L.Actor else titles
            if any(start <= m.start and m.end <= end and (start, end) != (m.start, m.end) and (
                    m.type != L.Actor or "+" in name or m.text in name) for start, end, name in within):
                continue
            sentence = sentences[m.sentence]
            local = m.start - sentence.start
            by_clause[(m.sentence, marks.last_before(sentence, local))].append(m)
        pairs = []
        for (index, _), group in by_clause.items():
            mechanisms = {m.name for m in group if m.type == L.Mechanism and "+" not in m.name}
            if len(mechanisms) != 1:
                continue
            mechanism = mechanisms.pop()
            for actor in sorted({m.name for m in group if m.type == L.Actor}):  # same order every run
                pairs.append((mechanism, actor, [index]))
        return pairs


def _named_within(named: list[Mention], label: str, offset: int, span: tuple[int, int]) -> list[str]:
    """The names of a label mentioned within a span of a sentence that starts at ``offset``."""
    start, end = offset + span[0], offset + span[1]
    return [m.name for m in named if m.type == label and start <= m.start and m.end <= end]
