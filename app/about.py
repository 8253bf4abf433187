"""The description at the top of the page: the question, what A and B are, how to read each
plot, and the scenarios (their one-line summaries come from simulation/configs/scenarios.yaml).
Plain HTML: solara.Markdown would load KaTeX from a CDN."""

from __future__ import annotations

from simulation.outputs import BY_NAME
from simulation.presets import scenarios

from charts import READING
from levers import HORIZON
from tables import esc


def _items(pairs) -> str:
    return "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in pairs)


def about_html() -> str:
    plots = [("Firm network of A and of B", "each dot is a firm, coloured by sector and "
              "sized by employees; the star in the centre is the city-forming enterprise "
              "(CFE), black rings are cluster members, squares TASED residents, orange lines "
              "supplier ties to the CFE. Hover a firm to read it.")]
    plots += [(BY_NAME[name].label, text) for name, text in READING.items() if name in BY_NAME]
    plots += [("Markers", "shaded: the TASED regime in force in A; dashed orange line: the "
               "regime ends; dashed purple line: public cluster money ends. Hover any plot "
               "to read A and B at a quarter."),
              ("Many seeds", "the mean over seeds with its 95% band, and the paired "
               "difference A − B with its 95% interval: where that band excludes 0, the "
               "difference is policy, not luck.")]
    return f"""
<p><b>The question.</b> A Russian mono-town lives off one city-forming enterprise (CFE).
Does the TASED regime (tax breaks and serviced plots for new investors) together with an
industrial cluster diversify its economy more than either alone? Does a cluster the state
builds survive when its support ends, and what does each new job cost the public purse?
The town's firms, three levels of government, universities and a cluster management company
(CMC) decide each quarter; a run lasts {HORIZON} quarters ({HORIZON // 4} years).</p>
<p><b>A and B.</b> A (solid blue) is the configuration you set: a scenario and any policy
lever you move. B (dashed red) is a comparison scenario run beside it on the same town and
seed, so both meet the same shocks and random draws and differ only by policy. Set them,
press <b>Reset</b>, then <b>Step</b> or <b>Play</b>.</p>
<p><b>How to read the plots.</b></p><ul class="about-plots">{_items(plots)}</ul>
<p><b>The {len(scenarios())} scenarios.</b></p>
<ul class="about-scenarios">{_items((n, s["summary"]) for n, s in scenarios().items())}</ul>
"""
