"""Numbers as news copy writes them: in digits ("10,000", "1.5", "15½"), in words ("forty", "twenty-five", "a
hundred"), with a scale ("million", "bn", "m"); their patterns and their values. Used by `figures.py`."""

from __future__ import annotations

ONES = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
    "mn": 1_000_000,
    "m": 1_000_000,
    "k": 1_000,
    "trillion": 1_000_000_000_000,
    "tn": 1_000_000_000_000,
    "trn": 1_000_000_000_000,
    "dozen": 12,
}
WORD_NUMBER = (
    r"(?:(?:" + "|".join(TENS) + r")(?:[-\s](?:" + "|".join(k for k, v in ONES.items() if v < 10) + r"))?"
    r"|" + "|".join(sorted(ONES, key=len, reverse=True)) + r"|a|an)"
)
DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?[½¼¾⅓⅔]?"
# the letters a number in words begins with ("a", "eleven", "forty", ...): a claim can start at no other letter
WORD_NUMBER_FIRST = "".join(sorted({w[0] for w in (*TENS, *ONES, "a", "an")}))
FRACTIONS = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3}  # "15½ pounds"


def parse_number(text: str, scale: str | None = None) -> float | None:
    """ "10,000" -> 10000.0, "forty" -> 40.0, "a hundred" with scale "hundred" -> 100.0; None when it is not a number."""
    word = " ".join(text.lower().replace("-", " ").split())
    if not word:
        return None
    if word[0].isdigit():
        fraction = FRACTIONS.get(word[-1], 0.0)
        try:
            value = float(word[:-1] if fraction else word.replace(",", "")) + fraction
        except ValueError:
            return None
    elif word in ("a", "an"):
        if scale is None:
            return None
        value = 1.0
    else:
        parts = word.split()
        if parts[0] in TENS:
            value = float(TENS[parts[0]] + (ONES.get(parts[1], 0) if len(parts) > 1 else 0))
        elif parts[0] in ONES and len(parts) == 1:
            value = float(ONES[parts[0]])
        else:
            return None
    if scale:
        value *= SCALES[scale.lower()]
    return value
