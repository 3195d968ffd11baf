"""Data with flaws on request (issue 16): ``flaws`` (default 0, clean) is the share of customers and of products
given one realistic defect each, the kind drawn at random, deterministic by seed and block, from streams of
their own (so the clean values of every row stay what they were, and ``flaws=0`` is the clean data exactly).

Kinds, and what a QA test finds in the data:

| kind | where | what |
|---|---|---|
| ``whitespace`` | customers.name | spaces before, after, or doubled inside the name |
| ``casing`` | customers.name | the name in capitals or in lower case |
| ``missing_phone`` | customers.phone | NULL |
| ``near_duplicate`` | customers | the previous customer's name and city, e-mail ``<their local part>+<custid>@…`` |
| ``misspelt_city`` | customers.city | two neighbouring letters after the first swapped (Amsterdam → Amstedram) |
| ``product_whitespace`` | products.name | a space before or after, or doubled inside |
| ``product_casing`` | products.name | the name in capitals or in lower case |

A flaw never touches an id, a foreign key, an e-mail's uniqueness, a country or any money: the rules of the
data hold. The run record lists how many of each kind were made (``flaws`` of the run).
"""

from __future__ import annotations

import numpy as np

CUSTOMER_FLAWS = ("whitespace", "casing", "missing_phone", "near_duplicate", "misspelt_city")
PRODUCT_FLAWS = ("product_whitespace", "product_casing")
STREAM_CUSTOMER_FLAWS, STREAM_PRODUCT_FLAWS = 6, 7
NULL_TEXT = "\ufffe"  # a text value stored as NULL (an optional field left empty): a Unicode noncharacter
_NEAR_DUPLICATE, _CASING = CUSTOMER_FLAWS.index("near_duplicate"), CUSTOMER_FLAWS.index("casing")


def draws(seed: int, stream: int, block: int, n: int, share: float, kinds: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Which rows of a block are flawed, with which kind, and each one's own draw (for how): the same numbers for
    the rows and for the run record's counts."""
    rng = np.random.default_rng([seed, stream, block])
    flawed = np.flatnonzero(rng.random(n) < share)
    kind = rng.integers(0, len(kinds), len(flawed))
    if kinds is CUSTOMER_FLAWS:  # a block's first customer has no previous one to be a near-duplicate of
        kind[(flawed == 0) & (kind == _NEAR_DUPLICATE)] = _CASING
    return flawed, kind, rng.random(len(flawed))


def _spaced(name: str, how: float) -> str:
    if how < 1 / 3:
        return "  " + name
    if how < 2 / 3 or " " not in name:
        return name + " "
    return name.replace(" ", "  ", 1)


def _cased(name: str, how: float) -> str:
    return name.upper() if how < 0.5 else name.lower()


def _misspelt(city: str, how: float) -> str:
    """Two neighbouring, different letters after the first swapped (Amsterdam → Amstedram), chosen by ``how``."""
    places = [
        i for i in range(1, len(city) - 1) if city[i].isalpha() and city[i + 1].isalpha() and city[i] != city[i + 1]
    ]
    if not places:
        return city + city[-1:]
    i = places[min(int(how * len(places)), len(places) - 1)]
    return city[:i] + city[i + 1] + city[i] + city[i + 2 :]


def flaw_customers(columns: dict[str, np.ndarray], seed: int, block: int, share: float) -> None:
    """Give a block of customers (``columns``: name, first_name, last_name, email, phone, city as object arrays,
    and custid) their defects, in place."""
    flawed, kind, how = draws(seed, STREAM_CUSTOMER_FLAWS, block, len(columns["name"]), share, CUSTOMER_FLAWS)
    for row, which, h in zip(flawed.tolist(), kind.tolist(), how.tolist(), strict=True):
        flaw = CUSTOMER_FLAWS[which]
        if flaw == "whitespace":
            columns["name"][row] = _spaced(columns["name"][row], h)
        elif flaw == "casing":
            columns["name"][row] = _cased(columns["name"][row], h)
        elif flaw == "missing_phone":
            columns["phone"][row] = NULL_TEXT
        elif flaw == "near_duplicate":
            for field in ("name", "first_name", "last_name", "city"):
                columns[field][row] = columns[field][row - 1]
            local, _, domain = columns["email"][row - 1].partition("@")
            columns["email"][row] = f"{local.partition('+')[0]}+{columns['custid'][row]}@{domain}"
        else:
            columns["city"][row] = _misspelt(columns["city"][row], h)


def flaw_products(names: np.ndarray, seed: int, block: int, share: float) -> None:
    """Give a block of product names (an object array) their defects, in place."""
    flawed, kind, how = draws(seed, STREAM_PRODUCT_FLAWS, block, len(names), share, PRODUCT_FLAWS)
    for row, which, h in zip(flawed.tolist(), kind.tolist(), how.tolist(), strict=True):
        names[row] = _spaced(names[row], h) if PRODUCT_FLAWS[which] == "product_whitespace" else _cased(names[row], h)


def flaw_counts(seed: int, share: float, customer_blocks: list[int], product_blocks: list[int]) -> dict[str, int]:
    """How many defects of each kind a run makes: ``customer_blocks``/``product_blocks`` are the blocks' sizes."""
    counts = dict.fromkeys((*CUSTOMER_FLAWS, *PRODUCT_FLAWS), 0)
    for kinds, stream, sizes in ((CUSTOMER_FLAWS, STREAM_CUSTOMER_FLAWS, customer_blocks),
                                 (PRODUCT_FLAWS, STREAM_PRODUCT_FLAWS, product_blocks)):  # fmt: skip
        for block, n in enumerate(sizes):
            _, kind, _ = draws(seed, stream, block, n, share, kinds)
            for which, number in zip(*np.unique(kind, return_counts=True), strict=True):
                counts[kinds[which]] += int(number)
    return counts
