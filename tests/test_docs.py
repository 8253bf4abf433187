"""The documents stay true to the code."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_odd_is_rendered_from_the_current_code(tmp_path):
    out = tmp_path / "ODD.md"
    res = subprocess.run([sys.executable, "docs/odd/render.py", str(out)], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert out.read_text() == (ROOT / "docs/ODD.md").read_text(), \
        "docs/ODD.md is stale: run python docs/odd/render.py"


def load_renderer():
    """docs/odd/render.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("odd_render", ROOT / "docs/odd/render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_output_table_is_generated_from_the_registry():
    render = load_renderer()
    readme = (ROOT / "README.md").read_text()
    assert readme.count(render.README_START) == 1 and readme.count(render.README_END) == 1
    block = readme.split(render.README_START)[1].split(render.README_END)[0]
    assert block.strip() == render.render_readme_outputs().strip(), \
        "README.md's output table is stale: run python docs/odd/render.py --readme"
    assert render.readme_with_outputs(readme) == readme


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", readme, flags=re.M):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci and "make test" in readme


def test_no_machine_paths_in_the_project():
    pattern = re.compile(r"/work/|/root/|/tmp/")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    offenders = []
    for name in tracked.stdout.split():
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yaml", ".toml", ".cfg", ""} and path.is_file():
            if pattern.search(path.read_text(errors="ignore")) and name != "tests/test_docs.py":
                offenders.append(name)
    assert offenders == []


def tracked_text_files():
    """(name, text) of the repository's tracked source and documentation files."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    for name in tracked.stdout.split():
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yaml", ".toml", ".cfg", ""} and path.is_file():
            yield name, path.read_text(errors="ignore")


def calibrated_parameters() -> list[dict]:
    """Configuration fields whose source is a calibration fact ("CAL ...") or a fit to the
    validation town ("calibrated ...")."""
    from simulation.config import field_docs

    return [r for r in field_docs() if str(r["source"]).startswith(("CAL", "calibrated"))]


def same_value(cell: str, value) -> bool:
    """Whether a table cell states this value (numbers compared as numbers)."""
    text = cell.strip().strip("`").replace(",", "").strip()
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    try:
        return float(text) == float(value)
    except (TypeError, ValueError):
        return False


def test_calibration_document_lists_every_calibrated_parameter_with_its_value():
    text = (ROOT / "docs/CALIBRATION.md").read_text()
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.lstrip().startswith("|")]
    params = calibrated_parameters()
    assert params, "no parameter cites a calibration fact"
    missing, stale = [], []
    for p in params:
        mine = [r for r in rows if f"`{p['name']}`" in r]
        if not mine:
            missing.append(p["name"])
        elif not any(same_value(c, p["default"]) for r in mine for c in r
                     if c != f"`{p['name']}`"):
            stale.append((p["name"], p["default"]))
    assert missing == [], f"docs/CALIBRATION.md has no table row for {missing}"
    assert stale == [], f"docs/CALIBRATION.md states other values than the code: {stale}"


def test_calibration_facts_are_cited_from_the_repository():
    """Facts are cited from docs/CALIBRATION.md, which is part of the repository: no file cites
    a design note outside it (MODEL.md) or a calibration document elsewhere."""
    assert (ROOT / "docs/CALIBRATION.md").is_file()
    offenders = []
    for name, text in tracked_text_files():
        if name == "tests/test_docs.py":
            continue
        if "MODEL.md" in text:
            offenders.append(f"{name}: MODEL.md")
        for m in re.finditer(r"([\w./~-]*)CALIBRATION\.md", text):
            if m.group(1) not in ("", "docs/"):
                offenders.append(f"{name}: {m.group(0)}")
    assert offenders == [], offenders
