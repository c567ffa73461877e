"""Quantities: numbers with units, in Arabic or Chinese numerals, or redacted.

Takes text; returns QuantitySpan items (offsets, value, unit as written, approximation
words, redaction). The value keeps the text's own scale: 3167.6万元 is value 3167.6 with
unit 万元; ``standardize`` converts area to hectares and money to yuan. A redacted number
(X座, XX万元) has value None and redacted True: nothing is ever made up.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import cn2an

from etl.extract.lexicon import load_numbers


@functools.cache
def _numbers() -> dict:
    """The number words of schema/units.yaml, read once a process."""
    return load_numbers()


@dataclass(frozen=True)
class QuantitySpan:
    start: int
    end: int
    text: str
    value: float | None
    unit: str
    approx: str | None
    redacted: bool


def parse_number(text: str, numbers: dict | None = None) -> float | None:
    """Arabic or Chinese numerals to a number; None for a redaction (X, XX)."""
    numbers = numbers or _numbers()
    if re.fullmatch(numbers["redaction"], text):
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if re.fullmatch(numbers["scale_alone"], text):
        text = numbers["scale_alone_reads"] + text  # 近百亿元: about a hundred
    return float(cn2an.cn2an(text.translate(str.maketrans(numbers["numeral_variants"])), "smart"))


class QuantityFinder:
    def __init__(self, units: dict[str, dict], numbers: dict | None = None):
        self.units = units
        self.numbers = numbers = numbers or _numbers()
        # What may not follow a unit (个 before 小时 or 方面), read once from the units' data.
        self.not_before = {unit: tuple(spec["not_before"]) for unit, spec in units.items() if spec.get("not_before")}
        # Units read so that no other unit takes their number, but that count nothing (个百分点, 期).
        self.uncounted = frozenset(unit for unit, spec in units.items() if spec.get("counted") is False)
        self.approximate_before = tuple(numbers["approximate_before"])
        self.criterion = re.compile(numbers["criterion"])
        before = numbers["approximate_before"] + numbers["linking_before"]
        names = sorted(units, key=len, reverse=True)
        unit_re = "|".join(re.escape(u) for u in names)
        # Every quantity starts with one of these characters; the lookahead lets the regex engine
        # skip the rest of the text quickly (three times faster, same matches).
        first = "".join(sorted({word[0] for word in before} | set(numbers["digits"]))) + "Xx×"
        self.pattern = re.compile(
            rf"(?=[\d{re.escape(first)}])(?P<pre>{'|'.join(map(re.escape, before))})?" + numbers["number"]
            + rf"(?P<approx0>{numbers['approximate_after']})?(?P<scale>{numbers['scale']})?"
            + rf"(?P<approx>{numbers['approximate_after']})?[ \u3000]?(?P<unit>{unit_re})(?![A-Za-z])"
        )

    def find(self, text: str) -> list[QuantitySpan]:
        found = []
        for match in self.pattern.finditer(text):
            num = match["num"]
            start = match.start("num")
            if self._is_not_a_quantity(text, start, match.end(), num, match["unit"]) \
                    or text.startswith(self.not_before.get(match["unit"], ()), match.end()) \
                    or self.criterion.match(text, match.end()) or match["unit"] in self.uncounted:
                continue
            try:
                value = parse_number(num, self.numbers)
            except (ValueError, KeyError):
                continue
            approx = match["approx"] or match["approx0"] \
                or (match["pre"] if match["pre"] in self.approximate_before else None)
            # 1万余份: the scale stays with the unit as written (value 1, unit 万份).
            unit = (match["scale"] or "") + self.units[match["unit"]].get("as", match["unit"])
            found.append(QuantitySpan(start, match.end(), text[start:match.end()], value, unit,
                                      approx, value is None))
        return found

    def _is_not_a_quantity(self, text: str, start: int, end: int, num: str, unit: str) -> bool:
        """第12位, 一是, 十四五: ordinals and plan names; 二十大: a congress; 三同时: a system; 一个 of prose;
        数千亩: a vague amount."""
        numbers = self.numbers
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if before and before in numbers["ordinal_before"] or (
                num in numbers["enumeration_heads"] and unit in numbers["enumeration_classifiers"]
                and after and after in numbers["enumeration_after"]):
            return True
        if not num[0].isdigit() and not re.fullmatch(numbers["redaction"], num[0]) and len(num) == 1 \
                and unit in numbers["article_classifiers"]:
            # 一个, 两条 in prose are mostly articles, not counts: keep only with a counted noun after.
            return not after or not "\u4e00" <= after <= "\u9fff"
        if before.isdigit() or before == ".":
            return True
        vague = bool(before) and before in numbers["scale_alone_vague_after"]
        return vague and bool(re.match(numbers["scale_alone"], num))


def standardize(value: float | None, unit: str, units: dict[str, dict]) -> tuple[float | None, str | None]:
    """Area to hectares (公顷) and money to yuan (元) where the unit allows; else (None, None)."""
    spec = units.get(unit, {})
    if value is None or "factor" not in spec:
        return None, None
    return round(value * float(spec["factor"]), 4), spec["std"]
