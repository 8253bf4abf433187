"""Statistics across replications: t-based confidence intervals, paired (common-random-number)
differences, the 2x2 interaction, and a step-change (threshold) test.

Every function takes plain arrays (one value per seed) and returns plain numbers, so the
analyses stay short and these rules can be tested against hand-computed values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.95  # confidence level of every interval in the reports


@dataclass(frozen=True)
class Estimate:
    """A mean across replications with its two-sided t confidence interval."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.n > 1 and (self.lo > 0 or self.hi < 0)

    def sign(self) -> int:
        """+1 or -1 when the interval excludes zero, else 0."""
        if not self.excludes_zero:
            return 0
        return 1 if self.mean > 0 else -1


def mean_ci(values, level: float = LEVEL) -> Estimate:
    """Mean and t-interval of the finite values (NaN bounds below two values)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    if np.ptp(x) == 0:  # identical values: exact, no rounding noise around the mean
        return Estimate(float(x[0]), float(x[0]), float(x[0]), n)
    sd = float(x.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def paired_difference(treated: dict, control: dict, level: float = LEVEL) -> Estimate:
    """Mean of treated[seed] - control[seed] over the seeds both have (CRN pairs)."""
    seeds = sorted(set(treated) & set(control))
    return mean_ci([treated[s] - control[s] for s in seeds], level)


def interaction(both: dict, a_only: dict, b_only: dict, neither: dict,
                level: float = LEVEL) -> Estimate:
    """2x2 interaction per seed: (both - a_only) - (b_only - neither), mean and CI."""
    seeds = sorted(set(both) & set(a_only) & set(b_only) & set(neither))
    return mean_ci([(both[s] - a_only[s]) - (b_only[s] - neither[s]) for s in seeds], level)


def share_ci(flags, level: float = LEVEL) -> Estimate:
    """Share of true flags with the Wilson score interval (well-behaved at 0 and 1)."""
    x = np.asarray(flags, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = float(x.mean())
    z = float(sps.norm.ppf(0.5 + level / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the interval holds p exactly (rounding can put a bound a hair past it at p = 0 or 1)
    return Estimate(p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)), n)


def ratio_of_means(num: dict, den: dict) -> float:
    """Mean numerator over mean denominator on common seeds (NaN unless the denominator > 0)."""
    seeds = sorted(set(num) & set(den))
    if not seeds:
        return math.nan
    d = float(np.mean([den[s] for s in seeds]))
    return float(np.mean([num[s] for s in seeds])) / d if d > 0 else math.nan


@dataclass(frozen=True)
class StepFit:
    """A linear fit with an added step at a breakpoint, against a plain linear fit."""

    found: bool
    breakpoint: float  # x above which the step applies
    jump: Estimate  # the step's size with its t-interval (given the breakpoint)
    delta_bic: float  # BIC(linear) - BIC(linear + step); > 10 is strong evidence of a step
    n: int
    x_min: float
    x_max: float


def step_threshold(x, y, min_side: int = 5, bic_margin: float = 10.0,
                   level: float = LEVEL) -> StepFit:
    """Segmented regression y = a + b x + c [x > tau], tau on a grid of midpoints.

    A threshold is reported when the step improves the BIC over the linear fit by more than
    `bic_margin` (Kass and Raftery 1995: "very strong"), the jump is positive and its interval
    excludes zero. At least `min_side` points must lie on each side of the breakpoint.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    nan = Estimate(math.nan, math.nan, math.nan, 0)
    if n < 2 * min_side + 2 or np.unique(x).size < 3:
        return StepFit(False, math.nan, nan, math.nan, n,
                       float(x.min()) if n else math.nan, float(x.max()) if n else math.nan)

    def fit(design: np.ndarray) -> tuple[np.ndarray, float]:
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ beta
        return beta, float(resid @ resid)

    def bic(rss: float, k: int) -> float:
        return n * math.log(max(rss, 1e-300) / n) + k * math.log(n)

    linear = np.column_stack([np.ones(n), x])
    _, rss_lin = fit(linear)
    xs = np.unique(x)
    best = None
    for lo, hi in zip(xs[:-1], xs[1:]):
        tau = (lo + hi) / 2
        above = x > tau
        if above.sum() < min_side or (~above).sum() < min_side:
            continue
        design = np.column_stack([linear, above.astype(float)])
        beta, rss = fit(design)
        if best is None or rss < best[1]:
            best = (tau, rss, beta, design)
    if best is None:
        return StepFit(False, math.nan, nan, math.nan, n, float(x.min()), float(x.max()))
    tau, rss, beta, design = best
    dof = n - design.shape[1]
    sigma2 = rss / dof if dof > 0 else math.nan
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    se = math.sqrt(max(float(cov[2, 2]), 0.0))
    half = float(sps.t.ppf(0.5 + level / 2, max(dof, 1))) * se
    jump = Estimate(float(beta[2]), float(beta[2]) - half, float(beta[2]) + half, n)
    delta = bic(rss_lin, 3) - bic(rss, 5)  # the breakpoint counts as a parameter
    found = delta > bic_margin and jump.mean > 0 and jump.excludes_zero
    return StepFit(found, float(tau), jump, float(delta), n, float(x.min()), float(x.max()))
