"""Quantities: numbers with units, in Arabic or Chinese numerals, or redacted.

Takes text; returns QuantitySpan items (offsets, value, unit as written, approximation
words, redaction). The value keeps the text's own scale: 3167.6万元 is value 3167.6 with
unit 万元; ``standardize`` converts area to hectares and money to yuan. A redacted number
(X座, XX万元) has value None and redacted True: nothing is ever made up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

CHINESE_DIGITS = "零〇一二两三四五六七八九十百千万"
APPROX_BEFORE = ("约", "近", "超过", "逾", "达")
# A bound that qualifies the noun after it (面积500平方公里以上的河流, 50亩以上且坡度…): a criterion
# of selection, not an amount of work.
CRITERION = re.compile(r"(?:及以上|以上|以下|以内|及以下)(?:的|且|或)")
_NUMBER = r"(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?|[Xx×]{1,4})"


@dataclass(frozen=True)
class QuantitySpan:
    start: int
    end: int
    text: str
    value: float | None
    unit: str
    approx: str | None
    redacted: bool


def parse_number(text: str) -> float | None:
    """Arabic or Chinese numerals to a number; None for a redaction (X, XX)."""
    if re.fullmatch(r"[Xx×]+", text):
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    return float(cn2an.cn2an(text.replace("两", "二").replace("〇", "零"), "smart"))


class QuantityFinder:
    def __init__(self, units: dict[str, dict]):
        self.units = units
        # What may not follow a unit (个 before 小时 or 方面), read once from the units' data.
        self.not_before = {unit: tuple(spec["not_before"]) for unit, spec in units.items() if spec.get("not_before")}
        # Units read so that no other unit takes their number, but that count nothing (个百分点, 期).
        self.uncounted = frozenset(unit for unit, spec in units.items() if spec.get("counted") is False)
        names = sorted(units, key=len, reverse=True)
        unit_re = "|".join(re.escape(u) for u in names)
        # 余/多 may stand between the number and the unit (1100余份), before the scale (242余万次) or
        # after it (30个以上).
        # Every quantity starts with one of these characters; the lookahead lets the regex engine
        # skip the rest of the text quickly (three times faster, same matches).
        first = "".join(sorted({word[0] for word in APPROX_BEFORE} | set(CHINESE_DIGITS))) + "Xx×"
        self.pattern = re.compile(
            rf"(?=[\d{first}])(?P<pre>{'|'.join(APPROX_BEFORE)})?" + _NUMBER
            + r"(?P<approx0>余|多)?(?P<scale>万|亿)?(?P<approx>余|多)?[ \u3000]?(?P<unit>" + unit_re + r")(?![A-Za-z])"
        )

    def find(self, text: str) -> list[QuantitySpan]:
        found = []
        for match in self.pattern.finditer(text):
            num = match["num"]
            start = match.start("num")
            if self._is_not_a_quantity(text, start, match.end(), num, match["unit"]) \
                    or text.startswith(self.not_before.get(match["unit"], ()), match.end()) \
                    or CRITERION.match(text, match.end()) or match["unit"] in self.uncounted:
                continue
            try:
                value = parse_number(num)
            except (ValueError, KeyError):
                continue
            approx = match["approx"] or match["approx0"] \
                or (match["pre"] if match["pre"] in ("约", "近", "超过", "逾") else None)
            # 1万余份: the scale stays with the unit as written (value 1, unit 万份).
            unit = (match["scale"] or "") + self.units[match["unit"]].get("as", match["unit"])
            found.append(QuantitySpan(start, match.end(), text[start:match.end()], value, unit,
                                      approx, value is None))
        return found

    @staticmethod
    def _is_not_a_quantity(text: str, start: int, end: int, num: str, unit: str) -> bool:
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        # 第12位, 一是, 十四五: ordinals and plan names; 二十大: a congress; 三同时: a system.
        if before in "第" or (num in ("一", "二", "三", "四", "五") and unit in ("个", "类", "种", "项")
                              and after in "是为"):
            return True
        if not num[0].isdigit() and num[0] not in "Xx×" and len(num) == 1 and unit in ("个", "条", "项", "种"):
            # 一个, 两条 in prose are mostly articles, not counts: keep only with a counted noun after.
            return not after or not "\u4e00" <= after <= "\u9fff"
        if before.isdigit() or before == ".":
            return True
        return False


def standardize(value: float | None, unit: str, units: dict[str, dict]) -> tuple[float | None, str | None]:
    """Area to hectares (公顷) and money to yuan (元) where the unit allows; else (None, None)."""
    spec = units.get(unit, {})
    if value is None or "factor" not in spec:
        return None, None
    return round(value * float(spec["factor"]), 4), spec["std"]
