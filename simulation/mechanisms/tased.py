"""The TASED regime (ODD 4.6, 4.8): residents' tax rates, the legal criteria, footloose exit.

Federal Law 473-FZ and Decree 614/2015: a resident pays 0% federal and 5% regional profit tax in
years 1-5, 2% + 10% in years 6-10, 7.6% insurance contributions for 10 years (if registered
within 3 years of the TASED's creation, a window removed in 2022) and no property tax for 5
years. The CFE and its affiliates (its outsourced units while it holds them) are never
residents; a resident may draw at most half of its revenue from the CFE, checked at application
and every year; an existing firm may become a resident with a new project if it keeps its
headcount. Who decides: the municipality grants residency after its administrative delay
(`MunicipalAuthority.decide_residency`), the federal authority co-finances the site
(`FederalAuthority.invest_in_site`); the rules they and investors apply are here.

A resident's age is the number of quarters since it became one; -1 marks a firm that is not a
resident (standard rates). Every rule takes a number or an array of ages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.config import TasedConfig, TaxConfig

if TYPE_CHECKING:
    from simulation.model import ClusterModel

NOT_RESIDENT = -1


def resident_ages(since: np.ndarray, t: int) -> np.ndarray:
    """Quarters of residency (-1 for firms that are not residents)."""
    return np.where(since >= 0, t - since, NOT_RESIDENT)


def _benefit(age, quarters: int):
    age = np.asarray(age)
    return (age >= 0) & (age < quarters)


def profit_tax_rates(age, tased: TasedConfig, taxes: TaxConfig):
    """(federal, regional) profit-tax rates: standard 3% + 17%; residents 0% + 5% in years
    1-5, 2% + 10% in years 6-10 (473-FZ)."""
    first = _benefit(age, tased.first_period_steps)
    second = _benefit(age, tased.benefit_steps) & ~first
    federal = np.where(first, tased.profit_federal_1_5,
                       np.where(second, tased.profit_federal_6_10, taxes.profit_federal))
    regional = np.where(first, tased.profit_regional_1_5,
                        np.where(second, tased.profit_regional_6_10, taxes.profit_regional))
    return federal, regional


def contribution_rate(age, tased: TasedConfig, taxes: TaxConfig, reduced=True):
    """Insurance contributions: 7.6% of payroll for residents' first 10 years if they were
    registered within the window after the TASED's creation (`reduced`), else 30%."""
    return np.where(_benefit(age, tased.benefit_steps) & np.asarray(reduced), tased.contributions,
                    taxes.contributions)


def in_window(model: ClusterModel, registered) -> np.ndarray:
    """Whether residents registered at step `registered` get the reduced contributions:
    within `contribution_window_steps` of the regime's start (always, without the window)."""
    t = model.cfg.tased
    return ~np.asarray(t.contribution_window) | (
        np.asarray(registered) - t.start_step < t.contribution_window_steps)


def property_rate(age, tased: TasedConfig, taxes: TaxConfig):
    """Quarterly property-tax rate: 0 during a resident's holiday, else the annual rate / 4."""
    return np.where(_benefit(age, tased.property_holiday_steps), 0.0, taxes.property / 4.0)


def is_eligible(capex, jobs, sector_eligible, cfe_affiliated, cfe_revenue_share,
                tased: TasedConfig):
    """The legal criteria for residency (473-FZ; Decree 614/2015): capex and new jobs in the
    first year, an eligible activity, not the CFE or its subsidiary, at most half of revenue
    from the CFE."""
    return ((capex >= tased.min_capex) & (jobs >= tased.min_jobs) & sector_eligible
            & ~np.asarray(cfe_affiliated) & (cfe_revenue_share <= tased.max_cfe_revenue_share))


def schedule(model: ClusterModel, resident: bool) -> tuple[np.ndarray, ...]:
    """(contribution, total profit-tax, property) rates for each quarter of an entrant's
    horizon: resident rates while its benefits last and the regime runs, standard after."""
    t, tx, h = model.cfg.tased, model.cfg.taxes, model.cfg.entry.horizon_steps
    q = np.arange(h)
    remaining = model.calendar.tased_remaining(model.time_step)
    age = np.where(resident & (q < remaining), q, NOT_RESIDENT)
    federal, regional = profit_tax_rates(age, t, tx)
    reduced = in_window(model, model.time_step + t.admin_delay_steps)
    return (contribution_rate(age, t, tx, reduced), federal + regional,
            property_rate(age, t, tx))


def footloose_leaves(model: ClusterModel, rows: np.ndarray, regime_on: bool) -> np.ndarray:
    """Which footloose residents at `rows` leave: those whose last quarter would have lost
    money at the rates that apply once their current benefits end (checked when a benefit
    period ends and when the regime ends)."""
    f, t, tx = model.firms, model.cfg.tased, model.cfg.taxes
    age = resident_ages(f.resident_since[rows], model.time_step)
    last = np.maximum(0, age - 1)  # the rates of the last quarter
    later = np.where((age >= t.benefit_steps) | (not regime_on), NOT_RESIDENT, age)
    reduced = f.reduced_contributions[rows]
    extra = model.town.wage * f.employees[rows] * (contribution_rate(later, t, tx, reduced)
                                                  - contribution_rate(last, t, tx, reduced)) \
        + f.capex[rows] * (property_rate(later, t, tx) - property_rate(last, t, tx))
    profit = f.profit[rows] - extra
    federal, regional = profit_tax_rates(later, t, tx)
    after = profit - (federal + regional) * np.maximum(profit, 0.0)
    return f.footloose[rows] & (after < 0)
