"""Pure decision and accounting rules of the model.

Each function states its equation and source; agents and the model gather state, call a rule
and store the result. Nothing here draws random numbers or touches the model, so every rule can
be tested against values computed by hand (tests/test_rules.py). Section numbers refer to
docs/ODD.md.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

# --------------------------------------------------------------------------- 4.1 demand


def demand_shock(x_prev: float, persistence: float, volatility: float, eps: float) -> float:
    """AR(1) log demand shock: x_t = rho * x_{t-1} + sigma * eps_t."""
    return persistence * x_prev + volatility * eps


def external_demand(base: float, trend: float, t: int, x: float, shock: float = 0.0) -> float:
    """D_s(t) = D_s(0) * (1 + g_s)^t * exp(x_t) * (1 - shock)."""
    return base * (1.0 + trend) ** t * math.exp(x) * (1.0 - shock)


def capture_factor(rel_town_growth: float, rel_national_growth: float, elasticity: float) -> float:
    """Share of the sector's market the town's firms hold, relative to the start.

    (A_town(t)/A_town(0) / (A_nat(t)/A_nat(0)))^eta: a town whose productivity grows faster
    than the nation's sells more (an Armington export-demand assumption).
    """
    return (rel_town_growth / rel_national_growth) ** elasticity


def replicator(weights: np.ndarray, productivity: np.ndarray, group: np.ndarray,
               n_groups: int, speed: float) -> np.ndarray:
    """Market-share weights after one quarter of replicator dynamics (Dosi et al. 2010):

    w_i' = w_i max(0, 1 + chi (A_i / A_bar_s - 1)),  A_bar_s = sum_s w A / sum_s w,

    so firms more productive than their sector's share-weighted mean gain market share.
    """
    sums = np.bincount(group, weights=weights, minlength=n_groups)
    mean = np.divide(np.bincount(group, weights=weights * productivity, minlength=n_groups), sums,
                     out=np.ones(n_groups), where=sums > 0)
    return weights * np.maximum(0.0, 1.0 + speed * (productivity / mean[group] - 1.0))


def entry_weight(capacity: float, sector_weights: float, sector_capacity: float) -> float:
    """An entrant's share weight: its market share starts at its share of sector capacity."""
    if sector_weights <= 0 or sector_capacity <= 0:
        return capacity
    return capacity * sector_weights / sector_capacity


def split_by_weight(total: np.ndarray, weights: np.ndarray, group: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """Split total[g] among members of group g in proportion to weights (zero if no weight)."""
    sums = np.bincount(group, weights=weights, minlength=n_groups)
    share = np.divide(weights, sums[group], out=np.zeros_like(weights), where=sums[group] > 0)
    return share * total[group]


def allocate_sizes(raw: np.ndarray, total: int, floor: int, cap: int) -> np.ndarray:
    """Integer firm sizes proportional to `raw`, each in [floor, cap], summing to `total`.

    Sizes above the cap are cut and the excess is spread over the other firms in proportion
    to their sizes; the rounding remainder goes to the largest uncapped firms, one job each.
    """
    floor = min(floor, total // max(1, len(raw)), cap)
    sizes = floor + np.asarray(raw, dtype=float) * (total - floor * len(raw)) / raw.sum()
    for _ in range(50):
        over = sizes > cap
        if not over.any():
            break
        excess = (sizes[over] - cap).sum()
        sizes[over] = cap
        free = ~over & (sizes < cap)
        sizes[free] += excess * sizes[free] / sizes[free].sum()
    out = np.clip(np.floor(sizes), floor, cap).astype(int)
    order = np.argsort(-(sizes - np.floor(sizes)), kind="stable")
    i = 0
    while out.sum() != total and i < 10 * len(out):
        j = order[i % len(out)]
        step = 1 if out.sum() < total else -1
        if floor <= out[j] + step <= cap:
            out[j] += step
        i += 1
    return out


# --------------------------------------------------------------------------- taxes (4.8)


def profit_tax_rates(resident_age: int | None, tased: "object", taxes: "object"
                     ) -> tuple[float, float]:
    """(federal, regional) profit-tax rates for a firm resident for `resident_age` quarters.

    Standard 3% + 17%; residents 0% + 5% in years 1-5, 2% + 10% in years 6-10 (473-FZ).
    """
    if resident_age is None or resident_age >= tased.benefit_steps:
        return taxes.profit_federal, taxes.profit_regional
    if resident_age < tased.first_period_steps:
        return tased.profit_federal_1_5, tased.profit_regional_1_5
    return tased.profit_federal_6_10, tased.profit_regional_6_10


def contribution_rate(resident_age: int | None, tased: "object", taxes: "object") -> float:
    """Insurance contributions: 7.6% of payroll for residents' first 10 years, else 30%."""
    if resident_age is not None and resident_age < tased.benefit_steps:
        return tased.contributions
    return taxes.contributions


def property_rate(resident_age: int | None, tased: "object", taxes: "object") -> float:
    """Quarterly property-tax rate: 0 during a resident's holiday, else the annual rate / 4."""
    if resident_age is not None and resident_age < tased.property_holiday_steps:
        return 0.0
    return taxes.property / 4.0


def firm_accounts(sales, employees, wage, input_share, contributions, overhead, other_costs,
                  profit_tax):
    """(profit before tax, profit tax, after-tax profit) of one quarter (scalars or arrays).

    pi = S - m*S - w*L*(1 + c) - F - other;  tax = t * max(pi, 0).
    """
    profit = sales * (1.0 - input_share) - wage * employees * (1.0 + contributions) \
        - overhead - other_costs
    tax = profit_tax * np.maximum(profit, 0.0)
    return profit, tax, profit - tax


def calibrated_input_share(productivity: float, wage: float, contributions: float,
                           margin: float, rd_intensity: float) -> float:
    """Input share that gives a firm of mean productivity `margin` on sales at the start.

    m = 1 - margin - rd - w (1 + c) / A, clipped to [0, 0.95] (steady-state calibration).
    """
    m = 1.0 - margin - rd_intensity - wage * (1.0 + contributions) / productivity
    return min(0.95, max(0.0, m))


# --------------------------------------------------------------------------- 4.2 ties


def cognitive_distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Euclidean distance of knowledge vectors in [0,1]^K, scaled to [0, 1]."""
    return math.dist(a, b) / math.sqrt(len(a))


def converge(a: tuple[float, ...], b: tuple[float, ...], rate: float) -> tuple[float, ...]:
    """Learning from a partner: k_a' = k_a + rate (k_b - k_a) (SKIN knowledge convergence)."""
    return tuple(x + rate * (y - x) for x, y in zip(a, b))


def knowledge_gain(distance: float, optimal: float) -> float:
    """Inverted U in cognitive distance (Nooteboom 2000): g = (d/d*) exp(1 - d/d*); g(d*) = 1.

    Novelty grows with distance, understandability falls with it.
    """
    z = distance / optimal
    return z * math.exp(1.0 - z)


def tie_success_prob(credit: float, common_partners: int, base: float) -> float:
    """Chance a joint project succeeds: p = 1 - (1 - p0) exp(-(credit + common) / 4).

    Relational credit and shared partners build trust (Cowan, Jonard, Zimmermann 2007); the
    partner search counts common partners, the quarterly project draw uses credit alone.
    """
    exp = np.exp if isinstance(credit, np.ndarray) else math.exp  # math is faster on scalars
    return 1.0 - (1.0 - base) * exp(-(credit + common_partners) / 4.0)


def partner_score(success_prob: float, gain: float, absorptive: float, sales: float,
                  gain_value: float, tie_cost: float) -> float:
    """Expected quarterly value of a tie: p * g * AC * v * S - cost (SKIN partner choice)."""
    return success_prob * gain * absorptive * gain_value * sales - tie_cost


# --------------------------------------------------------------------------- 4.3 innovation


def absorptive_capacity(rd_intensity: float, rd_reference: float, base: float,
                        service_boost: float) -> float:
    """Cohen-Levinthal: AC = base + (1 - base) * min(1, rd / rd_ref) + CMC services, <= 1."""
    ac = base + (1.0 - base) * np.minimum(1.0, rd_intensity / rd_reference) \
        if rd_reference > 0 else base
    return np.minimum(1.0, ac + service_boost)


def innovation_prob(rd_intensity: float, inflow: float, absorptive: float, base: float,
                    rd_effect: float, inflow_effect: float) -> float:
    """P(innovation in a quarter) = 1 - exp(-(h0 + a * rd + b * AC * ln(1 + inflow))).

    Knowledge inflow has diminishing returns (ln), so a hub with many ties does not innovate
    without bound; absorptive capacity AC scales what a firm can use (Cohen-Levinthal 1990).
    """
    return 1.0 - np.exp(-(base + rd_effect * rd_intensity
                          + inflow_effect * absorptive * np.log1p(inflow)))


def innovation_step_sd(employees: np.ndarray, sd: float, reference: float,
                       elasticity: float) -> np.ndarray:
    """s.d. of a firm's log productivity draw: sd * (L / L_ref)^(-beta) above L_ref.

    A large firm's productivity is an average over many units, so its innovations move it less
    (growth volatility falls with size; Stanley et al. 1996, beta about 0.15-0.2).
    """
    return sd * np.maximum(1.0, employees / reference) ** (-elasticity)


def bounded_spillover(n_related: float, per_firm: float, congestion: float) -> float:
    """Agglomeration inflow a * n * exp(-n / C): rises with related neighbours, then congests.

    Peaks at n = C with value a*C/e (Arthur 1990; Brenner 2001), so tipping is possible but not
    guaranteed.
    """
    return per_firm * n_related * np.exp(-n_related / congestion)


def expected_gain_of_draw(mean: float, sd):
    """E[max(0, X)] for X ~ N(mean, sd): the value of keeping the better of old and new.

    sd * phi(mean / sd) + mean * Phi(mean / sd); max(0, mean) where sd = 0 (scalar or array).
    """
    sd = np.asarray(sd, dtype=float)
    safe = np.where(sd > 0, sd, 1.0)
    z = mean / safe
    gain = safe * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) + mean * ndtr(z)
    out = np.where(sd > 0, gain, max(0.0, mean))
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- 4.4 relatedness


def relatedness_density(relatedness: np.ndarray, employment: np.ndarray) -> np.ndarray:
    """density_s = sum_k R[s,k] e_k / sum_k e_k (Hidalgo et al. 2007; Neffke et al. 2011)."""
    total = employment.sum()
    if total <= 0:
        return np.zeros(relatedness.shape[0])
    return relatedness @ employment / total


def sector_choice_probs(density: np.ndarray, weight: float,
                        allowed: np.ndarray | None = None) -> np.ndarray:
    """Logit choice: P(s) = exp(beta * density_s) / sum exp(...), over allowed sectors."""
    z = weight * density
    z = z - z.max()
    p = np.exp(z)
    if allowed is not None:
        p = p * allowed
    total = p.sum()
    return p / total if total > 0 else np.full_like(p, 1.0 / len(p))


def location_quotient(town_employment: np.ndarray, national_share: np.ndarray) -> np.ndarray:
    """LQ_s = (e_s / sum e) / national share_s."""
    total = town_employment.sum()
    share = town_employment / total if total > 0 else np.zeros_like(town_employment)
    return np.divide(share, national_share, out=np.zeros_like(share), where=national_share > 0)


# --------------------------------------------------------------------------- 4.6 entry


def entry_npv(quarterly_profits: np.ndarray, discount_rate: float) -> float:
    """NPV = sum_q pi_q / (1 + r)^q, q = 1..H."""
    q = np.arange(1, len(quarterly_profits) + 1)
    return float((quarterly_profits / (1.0 + discount_rate) ** q).sum())


def arrival_rate(base: float, effects: dict[str, float], levels: dict[str, float]) -> float:
    """Poisson rate of potential investors: lambda = lambda0 * exp(sum_k beta_k x_k)."""
    return base * math.exp(sum(effects[k] * levels[k] for k in effects))


def is_tased_eligible(capex: float, jobs: int, sector_eligible: bool, cfe_affiliated: bool,
                      cfe_revenue_share: float, tased: "object") -> bool:
    """The legal criteria for residency (473-FZ; Decree 614/2015)."""
    return (capex >= tased.min_capex and jobs >= tased.min_jobs and sector_eligible
            and not cfe_affiliated and cfe_revenue_share <= tased.max_cfe_revenue_share)


# --------------------------------------------------------------------------- 4.5 membership


def membership_benefit(hazard_gain: float, labour_cost: float, draw_value: float, horizon: int,
                       subsidy: float, cost: float) -> float:
    """Expected net quarterly gain: dh * E[max(0, dlogA)] * wL(1+c) * H + subsidy - cost.

    A process innovation that raises productivity by dlogA saves that share of the labour
    cost for the same sales; H quarters of that saving are counted.
    """
    return hazard_gain * draw_value * labour_cost * horizon + subsidy - cost


def balanced_fee(minimum: float, running_cost: float, service_cost: float, members: int,
                 grant: float, match_ratio: float, reserves: float) -> float:
    """The CMC's fee per member for next quarter: enough, with public money, to cover costs.

    fee = max(f_min, (C_run + c_s n - G - B) / (n (1 + m))), where G is the public grant, m the
    public match per rouble of fees and B the reserves in hand.
    """
    if members <= 0:
        return minimum
    need = running_cost + service_cost * members - grant - reserves
    return max(minimum, need / (members * (1.0 + match_ratio)))


def joins_by_contagion(member_partners: int, partners: int, threshold: float) -> bool:
    """Granovetter threshold: join when the member share of one's partners reaches theta."""
    return partners > 0 and member_partners / partners >= threshold


# --------------------------------------------------------------------------- 4.7 labour, town


def wage_update(wage: float, reference_wage: float, unemployment: float,
                reference_unemployment: float, elasticity: float, adjustment: float) -> float:
    """Wage curve (Blanchflower & Oswald 1994): w* = w_0 (u / u_0)^(-e), u floored at 1%;
    the wage moves a share `adjustment` of the way to w* each quarter."""
    target = reference_wage * (max(unemployment, 0.01) / reference_unemployment) ** -elasticity
    return wage + adjustment * (target - wage)


def out_migration_rate(unemployment: float, natural: float, urban: float, base: float,
                       unemployment_effect: float, urban_effect: float) -> float:
    """Quarterly out-migration share: m = max(0, m0 + b_u (u - u*)^+ - b_U U) (Harris-Todaro)."""
    return max(0.0, base + unemployment_effect * max(0.0, unemployment - natural)
               - urban_effect * urban)


def urban_quality_update(quality: float, investment: float, population: float, effect: float,
                         half_saturation: float, depreciation: float) -> float:
    """U' = U + e * I/(I + I_half) * (1 - U) - delta U, with I_half per 36k people."""
    half = half_saturation * population / 36_000.0
    gain = effect * investment / (investment + half) if investment > 0 else 0.0
    return min(1.0, max(0.0, quality + gain * (1.0 - quality) - depreciation * quality))
