"""The page's tables and downloads: current outcomes of A and B, the settings they run with,
the CSVs of their records and firms, and the glossary of outputs."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from simulation.outputs import BY_NAME, OUTPUTS

from charts import fmt
from town_model import Snapshot

SUMMARY_OUTPUTS = ("cfe_share", "employment_entropy", "members", "cmc_exists", "residents",
                   "non_cfe_jobs", "unemployment_rate", "firms", "public_cost_cumulative")


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))


#: (row, how to read it from a run's config): every control of the page has a row
SETTING_ROWS = (
    ("Town", lambda c: c.town.name),
    ("Scenario", lambda c: c.scenario),
    ("Seed", lambda c: str(c.seed)),
    ("TASED regime", lambda c: "on" if c.tased.enabled else "off"),
    ("Cluster founded by", lambda c: _enum(c.cluster.founder)),
    ("Support ends (quarter)", lambda c: f"{c.cluster.support_end_step}"),
    ("CMC quality q", lambda c: f"{c.cluster.management_quality:g}"),
    ("CMC brokerage", lambda c: f"{c.cluster.brokerage:g}"),
    ("Urban investment", lambda c: f"{c.urban.investment_per_step:g} mln RUB/q"),
    ("CFE outsourcing / year", lambda c: f"{c.cfe.outsourcing_rate:g}"),
    ("Priority sectors", lambda c: _enum(c.cluster.priority_rule)),
    ("CFE procurement", lambda c: _enum(c.cluster.procurement_rule)),
    ("Cluster subsidies", lambda c: f"{c.cluster.subsidy_budget:g} mln RUB/q"),
    ("CMC public money cap", lambda c: f"{c.cluster.public_funding:g} mln RUB/q"),
    ("Fee match ratio", lambda c: f"{c.cluster.match_ratio:g}"),
)


def esc(text: Any) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def summary_rows(snapshot: Snapshot) -> list[tuple[str, list[str]]]:
    """(row name, one cell per run) of the outcomes table."""
    runs = snapshot.runs
    scale = snapshot.a.cfg.town.scale
    rows = [("Quarter", [str(int(r.last["step"])) for r in runs])]
    for name in SUMMARY_OUTPUTS:
        if name in BY_NAME:
            rows.append((BY_NAME[name].label, [fmt(name, r.last.get(name), scale)
                                               for r in runs]))
    return rows


def setting_rows(snapshot: Snapshot) -> list[tuple[str, list[str]]]:
    """(setting, one cell per run): the values A and B run with."""
    rows = []
    for label, read in SETTING_ROWS:
        cells = []
        for r in snapshot.runs:
            try:
                cells.append(read(r.cfg))
            except AttributeError:  # a setting another version of the model renamed
                cells.append("–")
        rows.append((label, cells))
    return rows


def _table(snapshot: Snapshot, rows: list[tuple[str, list[str]]], cls: str) -> str:
    head = "".join(f"<th>{esc(r.label)}</th>" for r in snapshot.runs)
    body = "".join(f"<tr><td>{esc(name)}</td>" + "".join(f"<td>{esc(c)}</td>" for c in cells)
                   + "</tr>" for name, cells in rows)
    return (f'<table class="summary {cls}"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def summary_html(snapshot: Snapshot) -> str:
    """The current outcomes of A and B, as an HTML table, with what the numbers cover."""
    a = snapshot.a.cfg
    note = f"Town <b>{esc(a.town.name)}</b>, seed <b>{a.seed}</b>. "
    if a.town.scale != 1:
        note += (f"The model represents {a.town.scale:g} of the town's firms and people: "
                 "counts of firms and persons are the sample's; money is for the whole town "
                 f"(the sample's divided by {a.town.scale:g}).")
    else:
        note += "Money is in mln RUB for the whole town."
    return (f'<div class="summary-note">{note}</div>'
            + _table(snapshot, summary_rows(snapshot), "outcomes"))


def settings_html(snapshot: Snapshot) -> str:
    """The settings A and B run with (after presets and levers), as an HTML table."""
    return _table(snapshot, setting_rows(snapshot), "settings")


def records_csv(snapshot: Snapshot) -> str:
    """Every recorded output of A and B so far, one row per run and quarter, with the
    columns of the command line's model.parquet (money as the model records it: the
    sample's for a scaled town; shares as fractions)."""
    out = io.StringIO()
    names = list(snapshot.a.records[0])
    writer = csv.writer(out)
    writer.writerow(["run", "scenario", "town", "seed", "town_scale", *names])
    for r in snapshot.runs:
        head = [r.label.split(":")[0], r.cfg.scenario, r.cfg.town.name, r.cfg.seed,
                r.cfg.town.scale]
        for row in r.records:
            writer.writerow([*head, *(repr(float(row[n])) for n in names)])
    return out.getvalue()


def firms_csv(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """The firm table of A and B (`Runner.firm_rows`) with the columns of firms.parquet."""
    out = io.StringIO()
    if not rows:
        return ""
    names = list(rows[0][1])
    writer = csv.writer(out)
    writer.writerow(["run", *names])
    for run, row in rows:
        writer.writerow([run, *(repr(v) if isinstance(v, float) else v
                                for v in (row[n] for n in names))])
    return out.getvalue()


def outputs_html(names: Iterable[str] | None = None) -> str:
    """Label, unit and definition of the outputs (the page's glossary)."""
    rows = "".join(
        f"<tr><td>{esc(o.label)}</td><td>{esc(o.unit)}</td><td>{esc(o.definition)}</td>"
        "</tr>" for o in OUTPUTS if names is None or o.name in names)
    return ('<table class="summary glossary"><thead><tr><th>output</th><th>unit</th>'
            f"<th>definition</th></tr></thead><tbody>{rows}</tbody></table>")
