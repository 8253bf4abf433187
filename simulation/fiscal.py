"""Fiscal accounting (ODD 4.8): every rouble of public money by level and instrument.

Outlays are books of (level x instrument), tax revenue and tax expenditures books of
(level x tax), each kept for the current quarter and since the start; `balance` is each
budget's revenue collected less its outlays since the start. Every outlay names who receives
it and every tax who pays it: both are recorded as payments in the town's accounts
(simulation.accounts), where the receiver's and the payer's stocks must move alike.
"""

from __future__ import annotations

import numpy as np

from simulation.accounts import Accounts

LEVELS = ("federal", "regional", "municipal")
INSTRUMENTS = ("infrastructure", "urban_environment", "cmc_funding", "membership_subsidy",
               "joint_project_subsidy")
TAXES = ("profit", "contributions", "property", "land", "income")

_LEVEL = {name: i for i, name in enumerate(LEVELS)}
_INSTRUMENT = {name: i for i, name in enumerate(INSTRUMENTS)}
_TAX = {name: i for i, name in enumerate(TAXES)}


class Ledger:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.balance = np.zeros(len(LEVELS))
        self.step_outlays = np.zeros((len(LEVELS), len(INSTRUMENTS)))
        self.step_revenue = np.zeros((len(LEVELS), len(TAXES)))
        self.step_forgone = np.zeros((len(LEVELS), len(TAXES)))
        self.total_outlays = np.zeros_like(self.step_outlays)
        self.total_revenue = np.zeros_like(self.step_revenue)
        self.total_forgone = np.zeros_like(self.step_forgone)

    def new_step(self) -> None:
        self.step_outlays[:] = 0.0
        self.step_revenue[:] = 0.0
        self.step_forgone[:] = 0.0

    def spend(self, level: str, instrument: str, amount: float, to: str) -> float:
        """An outlay of `level` on `instrument`, paid to the sector `to`."""
        if level not in _LEVEL or instrument not in _INSTRUMENT:
            raise KeyError(f"unknown budget line {level}/{instrument}")
        if amount < 0:
            raise ValueError(f"negative outlay {amount} on {level}/{instrument}")
        at = _LEVEL[level], _INSTRUMENT[instrument]
        self.step_outlays[at] += amount
        self.total_outlays[at] += amount
        self.balance[_LEVEL[level]] -= amount
        self.accounts.pay(level, to, amount, instrument)
        return amount

    def collect(self, level: str, tax: str, amount: float, payer: str) -> None:
        """Tax revenue of `level`, paid by the sector `payer`."""
        at = _LEVEL[level], _TAX[tax]
        self.step_revenue[at] += amount
        self.total_revenue[at] += amount
        self.balance[_LEVEL[level]] += amount
        self.accounts.pay(payer, level, amount, f"{tax} tax")

    def receive(self, level: str, amount: float, payer: str, item: str) -> None:
        """Money returned to a budget (not a tax): e.g. a dissolved CMC's reserves."""
        self.balance[_LEVEL[level]] += amount
        self.accounts.pay(payer, level, amount, item)

    def forgo(self, level: str, tax: str, amount: float) -> None:
        """Tax expenditure: revenue not collected because of a preferential rate."""
        at = _LEVEL[level], _TAX[tax]
        self.step_forgone[at] += amount
        self.total_forgone[at] += amount

    @staticmethod
    def total(book: np.ndarray, level: str | None = None, item: str | None = None) -> float:
        """Sum of a book over all levels (or one) and all items (or one instrument or tax)."""
        rows = slice(None) if level is None else _LEVEL[level]
        cols = slice(None) if item is None else (_INSTRUMENT | _TAX)[item]
        return float(book[rows, cols].sum())
