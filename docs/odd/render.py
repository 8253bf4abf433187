"""Render docs/ODD.md from docs/odd/ODD.src.md: parameter tables, presets and scenarios are
generated from the code, so the description cannot drift from it (tests/test_docs.py checks).

Placeholders: <<T: name name ...>> a parameter table; <<TOWNS>>; <<SECTORS: town>>; <<SCEN>>.
Usage: python docs/odd/render.py [output]   (default: docs/ODD.md)
"""
import re
import sys
from enum import Enum
from pathlib import Path

import yaml

from simulation.config import field_docs
from simulation.presets import load_config

ROOT = Path(__file__).resolve().parents[2]
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
    cfgs = [load_config(town=t) for t in ("sokol", "tagil", "tolyatti")]
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
    order = ["baseline", "tased_only", "cluster_only", "top_down", "business_led", "joint"]
    data = {n: dict(flat(yaml.safe_load((ROOT / f"configs/scenario/{n}.yaml").read_text()))) for n in order}
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
        return scenarios()

    text = re.sub(r"<<(TOWNS|SECTORS|SCEN|T):?([^>]*)>>", sub, src, flags=re.S)
    missing = [n for n in rows if f"`{n}`" not in text and n != "scenario"]
    if missing:
        raise SystemExit(f"parameters missing from docs/odd/ODD.src.md: {missing}")
    return text


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/ODD.md"
    out.write_text(render())
