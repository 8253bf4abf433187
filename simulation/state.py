"""Array state: the firms as one typed column store, the ties as an edge list.

Every firm is one row of `FirmTable`; every stage of the model reads and writes whole columns
(numpy arrays), so the rules run on all firms at once. Firms are still Mesa agents
(`simulation.agents.firm.Firm`): an agent's attributes read and write its row. Rows are kept
contiguous and in the order of the firms' Mesa ids (row 0 is the CFE): firms that exit are
dropped at once (`keep`), and `row_of` maps a firm's id to its current row. Ties are rows of
`TieTable`, an undirected edge list of firm rows (a < b), renumbered when firms exit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NEVER = -(10**9)  # the step of an event that has not happened

#: how a firm came to town; the `origin` column holds the index into this tuple
ORIGINS = ("cfe", "incumbent", "investor", "spinoff", "university_spinoff", "outsourced")


class Column:
    """One typed column of a table; `width` names the constructor argument that gives a
    2-D column its number of entries per row."""

    def __init__(self, dtype: Any, default: Any = 0, doc: str = "",
                 width: str | None = None) -> None:
        self.dtype, self.default, self.doc, self.width = dtype, default, doc, width
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, table: Table | None, owner: type | None = None) -> Any:
        if table is None:
            return self
        return table._data[self.name][:table.n]

    def __set__(self, table: Table, value: Any) -> None:
        table._data[self.name][:table.n] = value


class Table:
    """Columns of equal length, grown by doubling; rows 0..n-1 are in use."""

    def __init__(self, capacity: int = 64, **widths: int) -> None:
        self.n = 0
        self.widths = widths
        self._defaults = {c.name: c.default for c in self.columns()}
        self._data = {c.name: np.full((capacity, *self._shape(c)), c.default, c.dtype)
                      for c in self.columns()}

    @classmethod
    def columns(cls) -> list[Column]:
        seen: dict[str, Column] = {}
        for klass in reversed(cls.__mro__):
            seen.update({k: v for k, v in vars(klass).items() if isinstance(v, Column)})
        return list(seen.values())

    def _shape(self, column: Column) -> tuple[int, ...]:
        return (self.widths[column.width],) if column.width else ()

    def __len__(self) -> int:
        return self.n

    def _reserve(self, extra: int) -> None:
        capacity = len(next(iter(self._data.values())))
        if self.n + extra <= capacity:
            return
        new = max(2 * capacity, self.n + extra)
        for name, old in self._data.items():
            grown = np.full((new, *old.shape[1:]), self._defaults[name], old.dtype)
            grown[:self.n] = old[:self.n]
            self._data[name] = grown

    def append(self, count: int = 1, **values: Any) -> np.ndarray:
        """Add `count` rows (values broadcast to them; other columns keep their defaults,
        which every unused row holds); returns their row indices."""
        self._reserve(count)
        rows = slice(self.n, self.n + count)
        for name, value in values.items():
            self._data[name][rows] = value
        self.n += count
        return np.arange(rows.start, rows.stop)

    def keep(self, mask: np.ndarray) -> np.ndarray:
        """Drop the rows where `mask` is False (order kept); returns the old rows kept."""
        kept = np.flatnonzero(mask)
        for name, data in self._data.items():
            data[:len(kept)] = data[kept]
            data[len(kept):self.n] = self._defaults[name]
        self.n = len(kept)
        return kept

    def get(self, name: str, row: int) -> Any:
        return self._data[name][row]

    def set(self, name: str, row: int, value: Any) -> None:
        self._data[name][row] = value


class FirmTable(Table):
    """The state of every firm in town, one row per firm (row 0 is the CFE)."""

    uid = Column(np.int64, -1, "Mesa unique_id of the firm's agent")
    sector = Column(np.int64, 0, "index into the town's sectors")
    employees = Column(np.int64, 0, "persons")
    productivity = Column(float, 0.0, "revenue per worker at capacity, mln RUB / quarter")
    rd_intensity = Column(float, 0.0, "share of sales spent on R&D")
    net_worth = Column(float, 0.0, "mln RUB")
    initial_net_worth = Column(float, 0.0, "net worth at entry, mln RUB")
    cum_profit = Column(float, 0.0, "after-tax profit since entry, mln RUB")
    cum_subsidy = Column(float, 0.0, "subsidies received since entry, mln RUB")
    cum_transfers = Column(float, 0.0, "equity moved in (+) or out (-) since entry: an "
                           "outsourced unit's capital, a dissolved CMC's reserves, mln RUB")
    origin = Column(np.int8, 1, "index into ORIGINS")
    is_cfe = Column(bool, False, "the city-forming enterprise")
    cfe_affiliated = Column(bool, False, "the CFE or its subsidiary: never a TASED resident")
    parent = Column(np.int64, -1, "id of the parent firm of a spinoff or outsourced unit")
    footloose = Column(bool, False, "an investor that may leave when its benefits end")
    capex = Column(float, 0.0, "book value of capital, the property-tax base, mln RUB")
    investment = Column(float, 0.0, "capital invested at entry (historical cost), mln RUB")
    output_factor = Column(float, 1.0, "output per own worker per unit of productivity: above "
                           "1 for the CFE once it buys back work it outsourced")
    project = Column(np.int64, -1, "an investor's project id (quarter * 10,000 + its place "
                     "in the quarter's arrivals), -1 for other firms")
    tax_forgone = Column(float, 0.0, "taxes forgone through TASED rates since entry, mln RUB")
    joining_threshold = Column(float, 1.0, "Granovetter share of member partners to join")
    born = Column(np.int64, 0, "step of entry")
    resident_since = Column(np.int64, -1, "step residency began, -1 if not a resident")
    ever_resident = Column(bool, False, "has been a TASED resident")
    reduced_contributions = Column(bool, False, "a resident with the reduced contribution rate "
                                   "(registered within the window)")
    headcount_before = Column(np.int64, 0, "employees before its new project: a resident must "
                              "keep them")
    project_capex = Column(float, 0.0, "investment of its latest project, mln RUB")
    expanded = Column(bool, False, "an existing firm that carried out a new project")
    sales_year = Column(float, 0.0, "sales in the current year of residency, mln RUB")
    cfe_sales_year = Column(float, 0.0, "sales to the CFE in that year, mln RUB")
    ramp_from = Column(np.int64, 0, "step of entry or of its latest new project")
    applied_at = Column(np.int64, -1, "step of a pending residency application, -1 if none")
    plot = Column(bool, False, "occupies a serviced TASED plot")
    member = Column(bool, False, "member of the cluster management company")
    bad_membership_steps = Column(np.int64, 0, "quarters in a row membership did not pay")
    left_at = Column(np.int64, NEVER, "step the firm last left the cluster")
    fee = Column(float, 0.0, "cluster fee paid this quarter, mln RUB")
    market_weight = Column(float, 0.0, "replicator weight: market share within the sector")
    sales = Column(float, 0.0, "this quarter, mln RUB")
    cfe_sales = Column(float, 0.0, "sales to the CFE this quarter, mln RUB")
    profit = Column(float, 0.0, "before tax, this quarter, mln RUB")
    after_tax = Column(float, 0.0, "after-tax profit this quarter, mln RUB")
    rd_spend = Column(float, 0.0, "R&D spending this quarter, mln RUB")
    inflow = Column(float, 0.0, "knowledge gained through ties this quarter")
    last_inflow = Column(float, 0.0, "all knowledge inflow of the last learning stage")
    planned_jobs = Column(np.int64, 0, "jobs an entrant hires toward while it ramps up")
    leaving = Column(bool, False, "a footloose resident that decided to go")
    loss_streak = Column(np.int64, 0, "quarters in a row with an after-tax loss")
    last_innovation = Column(np.int64, NEVER, "step of the last successful innovation")
    last_adoption = Column(np.int64, NEVER, "step of the last imitation of a recent innovation")
    university = Column(np.int64, -1, "index of the linked university, -1 if none")
    absorptive_capacity = Column(float, 0.0, "Cohen-Levinthal, set before networking")
    knowledge = Column(float, 0.0, "position in technology space [0, 1]^K",
                       width="knowledge_dims")
    past_partners = Column(np.int64, -1, "ids of past partners, newest last, -1 empty",
                           width="memory")
    #: a weak reference: the model keeps its agents alive, and NumPy arrays are invisible to
    #: Python's cycle collector, so a strong agent -> model -> table -> agent cycle would keep
    #: every finished model in memory
    agent = Column(object, None, "weak reference to the firm's Mesa agent")

    def __init__(self, knowledge_dims: int, memory: int, capacity: int = 256) -> None:
        super().__init__(capacity, knowledge_dims=knowledge_dims, memory=memory)
        self._row_of = np.full(capacity, -1, dtype=np.int64)  # Mesa id -> row

    def agents(self, rows: np.ndarray) -> list:
        """The Mesa agents of these rows."""
        return [ref() for ref in self.agent[rows]]

    def append(self, count: int = 1, **values: Any) -> np.ndarray:
        rows = super().append(count, **values)
        self._index(rows)
        return rows

    def keep(self, mask: np.ndarray) -> np.ndarray:
        gone = self.uid[~mask]
        kept = super().keep(mask)
        self._row_of[gone] = -1
        self._index(np.arange(self.n))
        return kept

    def _index(self, rows: np.ndarray) -> None:
        ids = self.uid[rows]
        if len(ids) and ids.max() >= len(self._row_of):
            grown = np.full(max(2 * len(self._row_of), ids.max() + 1), -1, dtype=np.int64)
            grown[:len(self._row_of)] = self._row_of
            self._row_of = grown
        self._row_of[ids] = rows

    def row_of(self, ids: Any) -> Any:
        """Current rows of firms by id (-1 for a firm that has exited or an empty slot)."""
        ids = np.asarray(ids)
        inside = (ids >= 0) & (ids < len(self._row_of))
        return np.where(inside, self._row_of[np.where(inside, ids, 0)], -1)

    def remember(self, rows: np.ndarray, partners: np.ndarray) -> None:
        """Append partner ids to the memories of the firms at `rows` (a row may repeat):
        the newest last, the oldest forgotten beyond the memory's width."""
        width = self.widths["memory"]
        if width == 0 or len(rows) == 0:
            return
        order = np.argsort(rows, kind="stable")
        rows, partners = rows[order], partners[order]
        firms, start, counts = np.unique(rows, return_index=True, return_counts=True)
        buf = np.full((len(firms), width + counts.max()), -1, dtype=np.int64)
        buf[:, :width] = self.past_partners[firms]
        group = np.repeat(np.arange(len(firms)), counts)
        buf[group, width + np.arange(len(rows)) - start[group]] = partners
        # empty slots (-1) to the front, the rest in order; keep the newest `width`
        buf = np.take_along_axis(buf, np.argsort(buf >= 0, axis=1, kind="stable"), axis=1)
        self.past_partners[firms] = buf[:, -width:]


class TieTable(Table):
    """Partnerships (SKIN): relational credit grows with joint success and decays without.

    The adjacency lists (`neighbours`) are kept until a tie is added or dropped or the firms
    are renumbered."""

    a = Column(np.int64, -1, "row of one firm (the smaller row)")
    b = Column(np.int64, -1, "row of the other firm")
    credit = Column(float, 1.0, "relational credit")
    supply = Column(bool, False, "a supplier tie to the CFE: carries procurement")
    weight = Column(float, 0.0, "procurement weight: capacity when linked or designated")

    def link(self, a: np.ndarray, b: np.ndarray, **values: Any) -> np.ndarray:
        """New ties between the firms at rows a[i] and b[i]; the caller checks they are not
        tied yet."""
        a, b = np.atleast_1d(a), np.atleast_1d(b)
        return self.append(len(a), a=np.minimum(a, b), b=np.maximum(a, b), **values)

    def degree(self, n: int) -> np.ndarray:
        """Ties of each of the n firm rows."""
        return np.bincount(self.a, minlength=n) + np.bincount(self.b, minlength=n)

    def __init__(self, capacity: int = 64) -> None:
        super().__init__(capacity)
        self._neighbours: Neighbours | None = None

    def neighbours(self, n: int) -> Neighbours:
        """Every firm's partners, as sorted adjacency lists over the n firm rows."""
        cached = self._neighbours
        if cached is None or cached.n != n:
            cached = Neighbours(np.concatenate([self.a, self.b]),
                                np.concatenate([self.b, self.a]), n)
            self._neighbours = cached
        return cached

    def append(self, count: int = 1, **values: Any) -> np.ndarray:
        self._neighbours = None
        return super().append(count, **values)

    def keep(self, mask: np.ndarray) -> np.ndarray:
        self._neighbours = None
        return super().keep(mask)

    def renumber(self, kept: np.ndarray, n_before: int) -> None:
        """Firm rows were compacted to `kept` (FirmTable.keep); no tie may touch a dropped
        row."""
        new = np.full(n_before, -1, dtype=np.int64)
        new[kept] = np.arange(len(kept))
        self.a, self.b = new[self.a], new[self.b]
        self._neighbours = None


class Neighbours:
    """Adjacency lists in compressed form: the partners of row i are
    `indices[indptr[i]:indptr[i + 1]]`, sorted; `keys` = i * n + j over all directed pairs,
    sorted, so "is j a partner of i" is one binary search."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n: int) -> None:
        self.n = n
        self.keys = np.sort(rows * n + cols)
        self.indices = self.keys % n if n else self.keys
        self.indptr = np.searchsorted(self.keys, np.arange(n + 1) * n)

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def tied(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether rows i[k] and j[k] are partners."""
        probe = np.asarray(i) * self.n + np.asarray(j)
        pos = np.minimum(np.searchsorted(self.keys, probe), max(len(self.keys) - 1, 0))
        return (self.keys[pos] == probe) if len(self.keys) else np.zeros(len(probe), bool)

    def common(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Number of partners rows i[k] and j[k] have in common (for every k)."""
        i, j = np.asarray(i), np.asarray(j)
        smaller = self.degree[i] <= self.degree[j]  # walk the shorter list of the two
        i, j = np.where(smaller, i, j), np.where(smaller, j, i)
        counts = self.degree[i]
        pair = np.repeat(np.arange(len(i)), counts)
        first = np.repeat(self.indptr[i] - np.cumsum(counts) + counts, counts)
        partners = self.indices[first + np.arange(counts.sum())]
        return np.bincount(pair, weights=self.tied(j[pair], partners),
                           minlength=len(i)).astype(np.int64)
