"""The page's controls (left column): settings with a tooltip each, and the parameter set
saved and loaded as YAML. What each control means is in `levers.LEVERS`."""

from __future__ import annotations

import solara

from levers import (BY_NAME, NO_COMPARISON, POLICY, changed, parameter_yaml,
                    parse_parameter_yaml, scenario_summary, shown_value)


def _range(lever) -> str:
    if lever.kind not in ("int", "float"):
        return ""
    lo, hi = lever.limits
    return (f" Slider: {lever.lo:g} to {lever.hi:g}" + (f"; type any value up to {hi:g}."
                                                      if hi > lever.hi else "."))


@solara.component
def Help(text: str):
    """An info icon whose tooltip explains a control."""
    with solara.Tooltip(text):
        solara.v.Icon(children=["mdi-information-outline"], small=True, class_="lever-info")


@solara.component
def LeverControl(name: str, settings: solara.Reactive[dict]):
    """One control: a select, a switch, or a typed number above its slider; the value is
    always visible. An untouched policy lever shows scenario A's preset value."""
    lever = BY_NAME[name]
    s = settings.value
    value = shown_value(s, name)
    untouched = lever.policy and s.get(name) is None

    def set_value(new):
        new = lever.clean(new)
        if lever.policy and new == shown_value({**settings.value, name: None}, name):
            new = None  # moved back to the scenario's value: no override
        settings.value = {**settings.value, name: new}

    label = f"{lever.label}{' (as in scenario)' if untouched else ''}"
    with solara.Row(gap="4px", classes=["lever", f"lever-{name}"],
                    style={"align-items": "center"}):
        with solara.Column(gap="0px", style={"flex": "1 1 auto", "min-width": "0"}):
            if lever.kind == "select":
                solara.Select(label, values=list(lever.values), value=value,
                              on_value=set_value)
            elif lever.kind == "switch":
                solara.Switch(label=label, value=bool(value), on_value=set_value)
            elif lever.kind == "seed":
                solara.InputInt(label, value=int(value), on_value=set_value, dense=True)
            else:
                number = solara.InputInt if lever.kind == "int" else solara.InputFloat
                number(label, value=value, on_value=set_value, dense=True,
                       classes=["lever-input"])
                shown = min(max(value, lever.lo), lever.hi)
                slider = solara.SliderInt if lever.kind == "int" else solara.SliderFloat
                kind = int if lever.kind == "int" else float
                slider("", value=kind(shown), min=kind(lever.lo), max=kind(lever.hi),
                       step=kind(lever.step), on_value=set_value, thumb_label=False)
        Help(lever.help + _range(lever))
    if name in ("scenario_a", "scenario_b") and value != NO_COMPARISON:
        solara.HTML(tag="div", unsafe_innerHTML=scenario_summary(value),
                    classes=["lever-help", f"summary-{name}"])


@solara.component
def Settings(settings: solara.Reactive[dict]):
    s = settings.value
    n_changed = len(changed(s))
    with solara.Card("Settings", margin=0, classes=["settings-card"]):
        for name in ("town", "scenario_a", "seed"):
            LeverControl(name, settings)
        with solara.Details("Policy levers" + (f" ({n_changed} changed)" if n_changed else ""),
                            expand=True):
            for lever in POLICY:
                LeverControl(lever.name, settings)
            solara.Button("Levers back to the scenario", icon_name="mdi-restore", text=True,
                          disabled=not n_changed,
                          on_click=lambda: settings.set(
                              {**settings.value, **{lv.name: None for lv in POLICY}}))
        for name in ("scenario_b", "b_uses_levers"):
            LeverControl(name, settings)


@solara.component
def ParameterSet(settings: solara.Reactive[dict], load):
    """Save A's or B's settings as `tased-sim` overrides; load a saved set (resets the run)."""
    s = settings.value
    message = solara.use_reactive("")
    pasted = solara.use_reactive("")

    def apply(text, source):
        try:
            new, notes = parse_parameter_yaml(text)
        except ValueError as err:
            message.value = f"Not loaded ({source}): {err}"
            return
        keep = {k: settings.value[k] for k in ("scenario_b", "b_uses_levers")}
        load({**new, **keep})
        message.value = (f"Loaded {source} and reset the run. " + " ".join(notes)).strip()

    with solara.Card("Parameter set", margin=0):
        solara.HTML(tag="div", classes=["lever-help"], unsafe_innerHTML=(
            "Save the settings as a list of <code>tased-sim</code> overrides (YAML); load one "
            "to set the controls and reset the run."))
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            for run, scenario in (("A", s["scenario_a"]), ("B", s["scenario_b"])):
                if scenario != NO_COMPARISON:
                    solara.FileDownload(
                        lambda run=run: parameter_yaml(settings.value, run),
                        filename=f"{s['town']}_{scenario}_seed{s['seed']}_{run}.yaml",
                        label=f"Save {run}", mime_type="text/yaml")
        solara.FileDrop(label="Drop a saved parameter set (.yaml) here to load it",
                        lazy=False, on_file=lambda f: apply(f["data"], f["name"]))
        with solara.Details("…or paste one"):
            with solara.Div(classes=["param-yaml"]):
                solara.InputTextArea("Parameter set (YAML)", value=pasted, rows=5,
                                     continuous_update=True)
            solara.Button("Load pasted", on_click=lambda: apply(pasted.value, "pasted text"),
                          disabled=not pasted.value.strip())
        if message.value:
            solara.Text(message.value, classes=["param-message"])
