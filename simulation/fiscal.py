"""Fiscal accounting (ODD 4.8): every rouble of public money by level and instrument."""

from __future__ import annotations

from collections import defaultdict

LEVELS = ("federal", "regional", "municipal")
INSTRUMENTS = ("infrastructure", "urban_environment", "cmc_funding", "membership_subsidy",
               "joint_project_subsidy")
TAXES = ("profit", "contributions", "property", "land", "income")


class Ledger:
    """Outlays, tax revenue and tax expenditures, per step and cumulative.

    Outlays are booked only through `spend`, so total public spending is by construction the
    sum of instrument outlays; tests check the money also arrives where it was sent.
    """

    def __init__(self) -> None:
        self.step_outlays: dict[tuple[str, str], float] = defaultdict(float)
        self.step_revenue: dict[tuple[str, str], float] = defaultdict(float)
        self.step_forgone: dict[tuple[str, str], float] = defaultdict(float)
        self.total_outlays: dict[tuple[str, str], float] = defaultdict(float)
        self.total_revenue: dict[tuple[str, str], float] = defaultdict(float)
        self.total_forgone: dict[tuple[str, str], float] = defaultdict(float)

    def new_step(self) -> None:
        self.step_outlays.clear()
        self.step_revenue.clear()
        self.step_forgone.clear()

    def spend(self, level: str, instrument: str, amount: float) -> float:
        if level not in LEVELS or instrument not in INSTRUMENTS:
            raise KeyError(f"unknown budget line {level}/{instrument}")
        if amount < 0:
            raise ValueError(f"negative outlay {amount} on {level}/{instrument}")
        self.step_outlays[level, instrument] += amount
        self.total_outlays[level, instrument] += amount
        return amount

    def collect(self, level: str, tax: str, amount: float) -> None:
        self.step_revenue[level, tax] += amount
        self.total_revenue[level, tax] += amount

    def forgo(self, level: str, tax: str, amount: float) -> None:
        """Tax expenditure: revenue not collected because of a preferential rate."""
        self.step_forgone[level, tax] += amount
        self.total_forgone[level, tax] += amount

    @staticmethod
    def total(book: dict[tuple[str, str], float], level: str | None = None,
              item: str | None = None) -> float:
        return sum(v for (lv, it), v in book.items()
                   if (level is None or lv == level) and (item is None or it == item))
