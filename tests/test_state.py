"""The array state: the firm table, its agents, the edge list and adjacency lists."""

import gc
import weakref

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from simulation.agents.firm import Firm
from simulation.model import ClusterModel
from simulation.state import FirmTable, Neighbours, TieTable


def table(n: int, memory: int = 3) -> FirmTable:
    t = FirmTable(knowledge_dims=2, memory=memory, capacity=2)  # grows past its capacity
    t.append(n, uid=np.arange(10, 10 + n), employees=np.arange(n) + 1)
    return t


def test_rows_append_with_defaults_and_keep_compacts():
    t = table(5)
    assert len(t) == 5 and list(t.employees) == [1, 2, 3, 4, 5]
    assert list(t.resident_since) == [-1] * 5 and not t.member.any()
    assert t.knowledge.shape == (5, 2) and t.past_partners.shape == (5, 3)
    kept = t.keep(np.array([True, False, True, False, True]))
    assert list(kept) == [0, 2, 4]
    assert list(t.uid) == [10, 12, 14] and list(t.employees) == [1, 3, 5]
    assert list(t.row_of([10, 11, 12, 14, 99, -1])) == [0, -1, 1, 2, -1, -1]
    # dropped rows hold defaults again, so the next row appended starts clean
    t.append(1, uid=20)
    assert t.employees[-1] == 0 and t.row_of(20) == 3


def test_remember_keeps_the_newest_partners_last():
    t = table(3, memory=3)
    t.past_partners[0] = [-1, -1, 7]
    # firm 0 meets 8 then 9; firm 2 meets 5; firm 0's oldest (7) is forgotten at the third
    t.remember(np.array([0, 2, 0]), np.array([8, 5, 9]))
    assert_array_equal(t.past_partners, [[7, 8, 9], [-1, -1, -1], [-1, -1, 5]])
    t.remember(np.array([0]), np.array([4]))
    assert_array_equal(t.past_partners[0], [8, 9, 4])


def test_neighbours_match_networkx():
    rng = np.random.default_rng(1)
    g = nx.gnm_random_graph(40, 120, seed=2)
    edges = np.array(g.edges())
    ties = TieTable()
    ties.link(edges[:, 0], edges[:, 1])
    assert (ties.a < ties.b).all()
    nb = ties.neighbours(40)
    assert list(nb.degree) == [g.degree(v) for v in range(40)]
    assert list(ties.degree(40)) == list(nb.degree)
    i, j = rng.integers(40, size=200), rng.integers(40, size=200)
    assert list(nb.tied(i, j)) == [g.has_edge(a, b) for a, b in zip(i, j)]
    assert list(nb.common(i, j)) == [len(set(g[a]) & set(g[b])) for a, b in zip(i, j)]


def test_ties_are_renumbered_when_firms_leave():
    ties = TieTable()
    ties.link([0, 2, 3], [3, 4, 4])
    ties.renumber(np.array([0, 2, 3, 4]), 5)  # row 1 dropped, no tie touched it
    assert list(ties.a) == [0, 1, 2] and list(ties.b) == [2, 3, 3]


def test_an_agent_reads_and_writes_its_row(make_model):
    m = make_model("sokol", "top_down", seed=1, steps=6)
    m.run()
    firms = list(m.agents_by_type[Firm])
    assert len(firms) == len(m.firms)  # Mesa's registry holds exactly the live firms
    f = firms[-1]
    assert m.firms.agents([f.row])[0] is f and f.employees == m.firms.employees[f.row]
    f.employees = 123
    assert m.firms.employees[f.row] == 123
    assert m.firms.agents([0])[0].is_cfe and m.firms.agents([0])[0].origin_name == "cfe"
    cfe = m.firms.agents([0])[0]
    assert {p.unique_id for p in cfe.partners} == set(
        m.firms.uid[np.concatenate([m.ties.b[m.ties.a == 0], m.ties.a[m.ties.b == 0]])])


def test_rows_follow_the_order_of_ids(make_model):
    m = make_model("sokol", "tased_only", seed=2, steps=20)
    m.run()
    assert (np.diff(m.firms.uid) > 0).all()
    assert all(m.firms.row_of(a.unique_id) == r for r, a in enumerate(m.firms.agents(np.arange(len(m.firms)))))


@pytest.mark.parametrize("width", [0, 4])
def test_memory_of_any_width_runs(make_model, width):
    m = make_model("sokol", "top_down", seed=3, steps=8, **{"network.memory": width})
    m.run()
    assert m.firms.past_partners.shape[1] == width
    assert isinstance(m, ClusterModel)


def test_neighbours_of_no_ties():
    nb = Neighbours(np.array([], dtype=int), np.array([], dtype=int), 3)
    assert list(nb.degree) == [0, 0, 0]
    assert list(nb.tied([0], [1])) == [False]
    assert list(nb.common([0], [1])) == [0]


def test_a_finished_model_is_freed():
    """Agents are held weakly by the firm table: no agent -> model -> array -> agent cycle
    (NumPy arrays are invisible to the cycle collector) keeps a finished model alive."""
    refs = []
    for seed in range(3):
        m = ClusterModel.from_presets("sokol", "top_down", seed=seed, overrides={"steps": 6})
        m.run()
        refs.append(weakref.ref(m))
        del m
    gc.collect()
    assert all(r() is None for r in refs)
