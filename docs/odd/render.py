"""Render docs/ODD.md from docs/odd/ODD.src.md: parameter tables, presets, scenarios and the
outputs are generated from the code, so the description cannot drift from it
(tests/test_docs.py checks).

Placeholders: <<T: name name ...>> a parameter table; <<TOWNS>>; <<SECTORS: town>>; <<SCEN>>;
<<OUTPUTS>> the columns of the model table (simulation.outputs.OUTPUTS).

Usage: python docs/odd/render.py [output]     (default: docs/ODD.md)
       python docs/odd/render.py --readme [readme]
           rewrites the output table of README.md (default) between its markers
           <!-- outputs:start --> and <!-- outputs:end -->
"""
import re
import sys
from enum import Enum
from pathlib import Path

import yaml

from simulation.config import field_docs
from simulation.outputs import OUTPUTS
from simulation.presets import CONFIG_DIR, load_config, options
from simulation.presets import scenarios as scenario_table

ROOT = Path(__file__).resolve().parents[2]
README_START = "<!-- outputs:start -->"
README_END = "<!-- outputs:end -->"
rows = {r["name"]: r for r in field_docs()}
used = set()

def fmt(v):
    if isinstance(v, Enum):
        return v.value
    if v is None:
        return "—"
    if isinstance(v, int) and not isinstance(v, bool) and v == 2**63 - 1:
        return "2^63 - 1"
    if isinstance(v, float) and v >= 1e5 and v == int(v):
        return f"{v:.0e}".replace("e+0", "e").replace("e+", "e")
    return repr(v) if not isinstance(v, str) else v

def table(names):
    out = ["| parameter | default | range | unit | source |", "|---|---|---|---|---|"]
    for n in names:
        r = rows[n]
        used.add(n)
        rng = "—" if r["lo"] is None and r["hi"] is None else f"[{fmt(r['lo'])}, {fmt(r['hi'])}]"
        d = r["default"]
        ds = fmt(d) if not isinstance(d, str) else (f"`{d}`" if d else "—")
        if isinstance(d, Enum):
            ds = f"`{d.value}`"
        out.append(f"| `{n}` | {ds} | {rng} | {r['unit'] or '—'} | {r['source'] or '—'} |")
    return "\n".join(out)

def towns():
    cfgs = [load_config(town=t) for t in options("town")]
    lines = ["| | " + " | ".join(f"`{c.town.name}`" for c in cfgs) + " |",
             "|---|" + "---|" * len(cfgs)]
    keys = ["scale", "population", "participation", "unemployment", "skilled_share",
            "public_jobs_share", "cfe_sector", "cfe_employment_share", "cfe_productivity",
            "cfe_suppliers", "wage", "urban_quality", "serviced_plots"]
    for k in keys:
        lines.append(f"| `town.{k}` | " + " | ".join(str(getattr(c.town, k)) for c in cfgs) + " |")
    lines.append("| sectors (firms besides the CFE) | " + " | ".join(
        f"{len(c.town.sectors)} ({sum(s.initial_firms for s in c.town.sectors)})" for c in cfgs) + " |")
    lines.append("| universities (`knowledge`, `capacity`, `graduates_per_step`, `spinoff_rate`) | " + " | ".join(
        "; ".join(f"{u.name} ({u.knowledge}, {u.capacity}, {u.graduates_per_step}, {u.spinoff_rate})"
                  for u in c.town.universities) for c in cfgs) + " |")
    # implied start values (deterministic)
    imp = []
    for c in cfgs:
        t = c.town
        lf = int(round(t.population * t.participation)); pub = int(round(lf * t.public_jobs_share))
        fj = lf - pub - int(round(lf * t.unemployment)); cfe = int(round(t.cfe_employment_share * (fj + pub)))
        imp.append((lf, pub, fj, cfe))
    for i, lab in enumerate(["labour force at start", "public jobs", "jobs in firms", "CFE employees"]):
        lines.append(f"| {lab} (implied) | " + " | ".join(str(x[i]) for x in imp) + " |")
    return "\n".join(lines)

def sectors(town):
    c = load_config(town=town)
    out = ["| sector | kind | firms | productivity | national_share | skill_need | market_room | market_room_abs | demand_trend | demand_volatility | tased_eligible | open_to_entry | related |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in c.town.sectors:
        out.append(f"| {s.name} | {s.kind.value} | {s.initial_firms} | {s.productivity} | {s.national_share} | {s.skill_need} | {s.market_room} | {s.market_room_abs} | {s.demand_trend} | {s.demand_volatility} | {s.tased_eligible} | {s.open_to_entry} | {', '.join(s.related) or '—'} |")
    return "\n".join(out)

def flat(d, pre=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, f"{pre}{k}.")
        else:
            yield f"{pre}{k}", v

def scenarios():
    order = list(scenario_table())
    data = {n: dict(flat(yaml.safe_load((CONFIG_DIR / "scenario" / f"{n}.yaml").read_text())))
            for n in order}
    keys = []
    for n in order:
        for k in data[n]:
            if k not in keys:
                keys.append(k)
    lines = ["| config value (default) | " + " | ".join(f"`{n}`" for n in order) + " |",
             "|---|" + "---|" * len(order)]
    for k in keys:
        if k == "scenario":
            lines.append("| `scenario` (label only) | " + " | ".join(f"`{data[n]['scenario']}`" for n in order) + " |")
            continue
        d = rows[k]["default"]
        d = d.value if isinstance(d, Enum) else d
        d = str(d).lower() if isinstance(d, bool) else d
        cells = []
        for n in order:
            v = data[n].get(k, None)
            if isinstance(v, bool):
                v = str(v).lower()
            cells.append("·" if v is None else f"`{v}`")
        lines.append(f"| `{k}` ({d}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)

def cell(text):
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")

def outputs(header=("column", "definition", "unit")):
    """The columns of the model table, from the output registry (in its order)."""
    lines = ["| " + " | ".join(header) + " |", "|---|---|---|"]
    for o in OUTPUTS:
        lines.append(f"| `{o.name}` | {cell(o.definition)} | {cell(o.unit)} |")
    return "\n".join(lines)

def render_readme_outputs() -> str:
    """The README's table of the model table's columns (between its outputs markers)."""
    return outputs(("column", "meaning", "unit"))

def readme_with_outputs(text: str) -> str:
    """README text with the block between the outputs markers replaced by the registry's."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md: markers {README_START} ... {README_END} not found")
    return (text[:start + len(README_START)] + "\n\n" + render_readme_outputs() + "\n\n"
            + text[end:])

def render() -> str:
    src = (ROOT / "docs/odd/ODD.src.md").read_text()

    def sub(m):
        kind, arg = m.group(1), m.group(2).strip()
        if kind == "T":
            return table(arg.split())
        if kind == "TOWNS":
            return towns()
        if kind == "SECTORS":
            return sectors(arg)
        if kind == "OUTPUTS":
            return outputs()
        return scenarios()

    text = re.sub(r"<<(TOWNS|SECTORS|SCEN|OUTPUTS|T):?([^>]*)>>", sub, src, flags=re.S)
    missing = [n for n in rows if f"`{n}`" not in text and n != "scenario"]
    if missing:
        raise SystemExit(f"parameters missing from docs/odd/ODD.src.md: {missing}")
    return text


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--readme":
        readme = Path(args[1]) if len(args) > 1 else ROOT / "README.md"
        readme.write_text(readme_with_outputs(readme.read_text()))
    else:
        out = Path(args[0]) if args else ROOT / "docs/ODD.md"
        out.write_text(render())
