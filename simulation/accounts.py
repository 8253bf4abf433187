"""Money that adds up (ODD 4.8): the flows of money between the town's sectors.

Sectors: the firms, the households, the cluster management company (CMC), the federal,
regional and municipal budgets, and the outside world (national markets and suppliers,
outside investors and creditors, the consolidated state budget that pays public-sector wages).
Every payment the model makes is recorded here, from one sector to another, where the model
changes the stocks it moves:

| stock | held in |
|---|---|
| firms | the sum of `model.firms.net_worth` |
| households | `model.town.household_wealth` |
| cmc | `model.cmc.budget` (0 without a CMC) |
| federal, regional, municipal | `model.ledger.balance` (revenue collected less outlays) |

So in every quarter the change in each stock equals its inflows less its outflows
(`Accounts.net_inflow`); tests/test_model.py checks this identity against the stocks.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

SECTORS = ("firms", "households", "cmc", "federal", "regional", "municipal", "outside")
_INDEX = {name: i for i, name in enumerate(SECTORS)}


class Accounts:
    def __init__(self) -> None:
        n = len(SECTORS)
        self.flows = np.zeros((n, n))  # this quarter: [payer, payee]
        self.items: dict[tuple[str, str, str], float] = defaultdict(float)
        self.total_items: dict[tuple[str, str, str], float] = defaultdict(float)

    def new_step(self) -> None:
        self.flows[:] = 0.0
        self.items.clear()

    def pay(self, payer: str, payee: str, amount: float, item: str) -> float:
        """Record a payment of `amount` (mln RUB) for `item`; returns the amount. Payments
        between firms (procurement, outsourced units' capital) are flows within one sector."""
        if amount == 0:
            return 0.0
        if amount < 0:
            raise ValueError(f"a negative payment {amount} from {payer} to {payee} ({item})")
        self.flows[_INDEX[payer], _INDEX[payee]] += amount
        self.items[payer, payee, item] += amount
        self.total_items[payer, payee, item] += amount
        return amount

    def net_inflow(self, sector: str) -> float:
        """Inflows less outflows of one sector this quarter."""
        i = _INDEX[sector]
        return float(self.flows[:, i].sum() - self.flows[i, :].sum())

    def item(self, item: str) -> float:
        """This quarter's payments for one item, whoever paid them."""
        return sum(v for (_, _, it), v in self.items.items() if it == item)
