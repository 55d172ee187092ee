"""The README quotes recorded numbers, never remembered ones: each check recomputes the sentence
from the record under benchmarks/ or validation/ and finds it in the README."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def minutes(seconds: int) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s} s" if m else f"{s} s"


def fresh_clone_sentence(row: dict) -> str:
    """The README's set-up and test timings, as written from one fresh_clone.jsonl record."""
    steps = row["test_steps_seconds"]
    cache = "present" if row["pip_cache_present"] else "absent"
    return (
        f"On a fresh clone (commit `{row['commit']}`, Python {row['python']}, {row['cores']} cores; "
        f"`tools/time_fresh_clone.sh`, recorded in `benchmarks/fresh_clone.jsonl`; `~/.cache/pip` {cache}) "
        f"setting up took {minutes(row['install_seconds'])}, `./quickstart fit` "
        f"{minutes(row['fit_command_seconds'])} in all (set-up included), and `./quickstart test` "
        f"{minutes(row['test_command_seconds'])}: the default tier {minutes(steps['tests'])}, the slow tier "
        f"{minutes(steps['slow tier'])}."
    )


def newest(path: Path) -> dict:
    return json.loads(path.read_text().strip().splitlines()[-1])


@pytest.mark.skipif(
    os.environ.get("BAYESDENSE_TIMING_RUN") == "1",
    reason="inside tools/time_fresh_clone.sh: the record this checks is written when that run ends",
)
def test_readme_states_the_newest_fresh_clone_timings():
    row = newest(ROOT / "benchmarks" / "fresh_clone.jsonl")
    assert row["all_checks_passed"]
    text = " ".join(README.split())  # the README wraps lines
    assert fresh_clone_sentence(row) in text, fresh_clone_sentence(row)


def test_pareto_k_numbers_come_from_the_record():
    rec = json.loads((ROOT / "validation" / "pareto_k_seeds.json").read_text())
    ks = [r["max_pareto_k"] for r in rec["rows"]]
    above = max(r["n_pareto_k_above_0.7"] for r in rec["rows"])
    text = " ".join(README.split())
    assert f"varies from {min(ks):.2f} to {max(ks):.2f} over six seeds" in text
    assert len({r["seed"] for r in rec["rows"]}) == 6 and above == 1 and "never more than one" in text


def test_main_job_block_is_the_recorded_output():
    record = (ROOT / "validation" / "main_job_default_seed1.txt").read_text().splitlines()
    start = README.index("## What the main job prints")
    block = README[README.index("```\n", start) + 4 : README.index("\n```", README.index("```\n", start) + 4)]
    lines = [x for x in block.splitlines() if x.strip() and x.strip() != "..."]
    assert len(lines) >= 12
    missing = [x for x in lines if x not in record]
    assert not missing, missing


def test_scale_numbers_come_from_the_benchmark_record():
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results_scale.jsonl").read_text().splitlines()]
    # the integrated-latents comparison: the unloaded rows of 2026-12-03 (chains one after another)
    done = {
        (r["n_drawn"], r["latents"]): r
        for r in rows
        if r.get("finished", True) and not r.get("loaded") and r["date"] == "2026-12-03"
    }
    s, i = done[(50, "sampled")], done[(50, "integrated")]
    text = " ".join(README.split())
    ratio = s["wall_seconds"] / i["wall_seconds"]
    assert f"50 synthetic models take {i['wall_seconds']} s against {s['wall_seconds']} s sampled ({ratio:.2f}x" in text
    assert f"faster at 50 models ({s['wall_seconds']} s against {i['wall_seconds']} s on the adaptive grid" in text
    stopped = next(r for r in rows if r["n_drawn"] == 500 and not r.get("finished", True))
    assert f"had not finished after {stopped['stopped_after_seconds'] // 60} minutes" in text
    big = [r for r in rows if r["n_drawn"] == 500 and r.get("finished", True) and r.get("loaded")][-1]
    assert f"finished in {big['wall_seconds']} s on a loaded machine" in text


def test_large_fit_numbers_come_from_the_benchmark_records():
    """The many-models bullet: the newest synthetic row per size at the default sampler settings,
    and the gradient cost at 5,000 models from benchmarks/results_gradient.jsonl."""
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results_scale.jsonl").read_text().splitlines()]
    newest = {}
    for r in rows:
        if r.get("data") == "synthetic" and r.get("sampler", {}).get("target_accept", 0.95) == 0.95:
            newest[r["n_drawn"]] = r
    parts = [f"{newest[n]['n_models']:,} models {newest[n]['wall_seconds']} s" for n in (50, 500, 2000, 5000)]
    rhat = max(newest[n]["max_rhat"] for n in newest)
    div = sum(newest[n]["divergences"] for n in newest)
    text = " ".join(README.split())
    assert ", ".join(parts) + f" ({div} divergences, R-hat <= {rhat:.3f})" in text
    big = newest[5000]
    assert f"peak memory {big['peak_rss_mb'] / 1024:.1f} GB at {big['n_models']:,}" in text
    board = [r for r in rows if r.get("data") == "leaderboard"][-1]
    assert (
        f"`bayesdense fit leaderboard` ({board['n_models']:,} entries, the curves held at the paper's): "
        f"{board['wall_seconds']} s, {board['divergences']} divergences, max R-hat {board['max_rhat']:.3f}, "
        f"min bulk ESS {board['min_ess_bulk']:.0f}"
    ) in text
    # the runs with the curves fitted jointly: nowhere near converged (finding 16)
    before = [r for r in rows if r.get("data") == "leaderboard" and r["max_rhat"] > 1.1]
    assert f"R-hat {before[0]['max_rhat']:.3f} on {before[0]['n_models']:,} entries, and " in text
    assert f"{before[-1]['max_rhat']:.3f} on the {before[-1]['n_models']:,} left once scores" in text
    grads = [json.loads(x) for x in (ROOT / "benchmarks" / "results_gradient.jsonl").read_text().splitlines()]
    g5000 = [g for g in grads if g["n_models"] > 4000][-1]
    assert f"the cost of one gradient, {g5000['us_per_call']:.0f} us at {g5000['n_models']:,} models" in text


def test_score_table_coverage_and_crosscheck_come_from_the_data():
    import numpy as np

    from bayesdense import classical
    from bayesdense.data import load_table

    sc = load_table("scores")
    n = sc.groupby("benchmark").size()
    cells = ", ".join(f"{b} {n[b]}" for b in ("MMLU", "BBH", "MATH", "HumanEval", "MBPP"))
    assert f"{len(sc)} of 51 x 5 cells: {cells})" in README
    cc = classical.score_crosscheck()
    r = np.corrcoef(cc["mean_of_five"], cc["implied_average"])[0, 1]
    diff = cc["difference"]
    sentence = (
        f"for the {len(cc)} models with all five scores, the mean of the five published scores and\n"
        f"the paper-implied AVERAGE score below agree with correlation {r:.3f}, mean difference "
        f"{diff.mean():+.2f} points\nand median absolute difference {diff.abs().median():.1f} points"
    )
    assert sentence in README


def _block_after(marker: str) -> list[str]:
    start = README.index(marker)
    a = README.index("```\n", start) + 4
    block = README[a : README.index("\n```", a)]
    return [x for x in block.splitlines() if x.strip() and not x.rstrip().endswith("...")]


def test_scaling_law_example_sentence_reads_the_record():
    rec = (ROOT / "validation" / "scaling_law_example.txt").read_text().splitlines()
    tpp = next(x for x in rec if x.strip().startswith("tokens/param")).split("[")[1].split("]")[0].split(", ")
    low, high = (float(v) for v in tpp)
    truth = {"E": 1.8, "a": 0.35, "alpha": 0.34, "b": 0.45, "beta": 0.28}
    inside = []
    for k, v in truth.items():
        row = next(x for x in rec if x.split() and x.split()[0] == k)
        lo, hi = (float(t) for t in row.split("[")[1].split("]")[0].split(", "))
        inside.append(lo <= v <= hi)
    text = " ".join(README.split())
    assert f"is wide ({low:.0f} to {high:.0f})" in text
    blo, bhi = _b_interval(rec)
    assert f"lies inside four of the five intervals; b's ({blo} to {bhi})" in text
    assert sum(inside) == 4 and not inside[3]


def _b_interval(rec: list[str]) -> tuple[str, str]:
    row = next(x for x in rec if x.split() and x.split()[0] == "b")
    lo, hi = (float(t) for t in row.split("[")[1].split("]")[0].split(", "))
    return f"{lo:.3f}", f"{hi:.3f}"


def test_scaling_law_example_is_the_recorded_output():
    record = (ROOT / "validation" / "scaling_law_example.txt").read_text().splitlines()
    lines = _block_after("The table ships as `examples/scaling_law_runs.csv`")
    assert len(lines) >= 12
    missing = [x for x in lines if x not in record]
    assert not missing, missing


# ----------------------------------------------------------------------------- structural, curvature
def _load(name: str) -> dict:
    return json.loads((ROOT / "validation" / name).read_text())


def _d(x: dict) -> str:
    return f"{x['median']:.0f} days [{x['eti_low']:.0f}, {x['eti_high']:.0f}]"


def structural_sentences() -> list[str]:
    r = _load("structural_default.json")
    p = _load("structural_default_paper_mode.json")
    g = r["growth_rate_per_day"]
    sh = r["variance_share"]
    modes = {m["residuals"]: m for m in r["loss_law_modes"]["log"] + r["loss_law_modes"]["linear"] if m["alpha"] > 0.2}
    like_name = "loss_law_mode=paper|loss_residuals=linear|frontier=records|window=all"
    like = next(m for m in r["members"] if m["name"] == like_name)
    by = r["by_choice"]
    return [
        f"{len(r['members'])} members, {r['converged_members']} converged",
        f"doubling time {_d(r['doubling_time_days'])} (94% equal-tailed), growth rate {g['median']:.5f} per day "
        f"[{g['eti_low']:.5f}, {g['eti_high']:.5f}]",
        f"within members {sh['within_members']:.0%}, frontier estimand {sh['frontier']:.0%}, release window "
        f"{sh['window']:.0%}, loss-law mode {sh['loss_law_mode']:.0%}, residual scale {sh['loss_residuals']:.0%}, "
        f"interactions {sh['interactions']:.0%}",
        f"the other mode (alpha = {modes['log']['alpha']:.3f} on log residuals, {modes['linear']['alpha']:.3f} on "
        f"linear ones) {modes['log']['weight']:.2f} and {modes['linear']['weight']:.2f} of the evidence",
        f"(`--mode-weights paper`, `validation/structural_default_paper_mode.json`): {_d(p['doubling_time_days'])}",
        f"paper mode {_d(by['loss_law_mode']['paper']['doubling_time_days'])}, other mode "
        f"{_d(by['loss_law_mode']['other']['doubling_time_days'])}",
        f"gives {_d(like['doubling_time_days'])}",
        f"with the uncertainty carried through) gives {_d(like['doubling_time_days'])}",  # the main-job section
        f"over them (finding 8): {_d(r['doubling_time_days'])}",
        f"frontier slope {_d(by['frontier']['stochastic_frontier']['doubling_time_days'])}, records + OLS "
        f"{_d(by['frontier']['records']['doubling_time_days'])}",
    ]


def curvature_sentences() -> list[str]:
    c = _load("curvature_default.json")
    cv = c["curvature"]
    f, la = cv["growth_rate_per_day_first_year"], cv["growth_rate_per_day_last_year"]
    loo = {x["spec"]: x for x in c["compare"]["loo"]}
    dse = c["compare"]["compare_table"]["trend_quadratic"]["dse"]
    return [
        f"{f['median']:.5f} per day [{f['hdi_low']:.5f}, {f['hdi_high']:.5f}] in the data's first year and "
        f"{la['median']:.5f} [{la['hdi_low']:.5f}, {la['hdi_high']:.5f}] in its last",
        f"P(last year's rate < first year's) = {cv['p_last_year_slower']:.3f}",
        f"elpd {loo['default']['elpd_loo']:.1f} for the line against {loo['trend_quadratic']['elpd_loo']:.1f} for the "
        f"bend, a difference of {loo['default']['elpd_loo'] - loo['trend_quadratic']['elpd_loo']:.1f} with standard "
        f"error {dse:.1f}; largest Pareto k {loo['default']['max_pareto_k']:.2f} and "
        f"{loo['trend_quadratic']['max_pareto_k']:.2f}",
    ]


def power_scaling_sentences() -> list[str]:
    ps = _load("power_scaling_default.json")["result"]
    g = next(r for r in ps["rows"] if r["quantity"] == "growth_rate_per_day")
    a = next(r for r in ps["rows"] if r["quantity"] == "loss_alpha[AVERAGE]")
    by = ps["growth_rate_by_prior"]
    return [
        f"growth rate prior {g['prior']:.3f} /\nlikelihood {g['likelihood']:.3f}",
        f"(frontier lambda {by['frontier_lambda']:.3f}, growth prior {by['growth_rate_per_year']:.3f}, loss exponent "
        f"alpha\n{by['loss_alpha']:.3f})",
        f"prior-data conflict ({a['prior']:.3f} / {a['likelihood']:.3f})",
    ]


@pytest.mark.parametrize("sentences", [structural_sentences, curvature_sentences, power_scaling_sentences])
def test_structural_curvature_and_power_scaling_numbers_come_from_their_records(sentences):
    text = " ".join(README.split())
    missing = [s for s in sentences() if " ".join(s.split()) not in text]
    assert not missing, missing


def test_prior_check_numbers_come_from_the_record():
    import re

    rec = (ROOT / "validation" / "prior_check_default.txt").read_text()
    lo, hi = re.search(r"Scores \(points\): real min\s+([\d.]+), median\s+[\d.]+, max\s+([\d.]+)", rec).groups()
    inside = re.search(r"Scores.*?median lies inside the real range: (\d+)%", rec, re.S).group(1)
    floor = re.search(r"within 2 points of the link floor.*?: (\d+)%", rec).group(1)
    text = " ".join(README.split())
    sentence = (
        f"real scores {lo}-{hi}; {floor}% of the simulations have most scores near the floor, {inside}% a median "
        "score inside the real range"
    )
    assert sentence in text


def test_trend_benchmark_comparison_comes_from_its_record():
    import pandas as pd

    d = pd.read_csv(ROOT / "validation" / "sensitivity_trend_fig2_benchmarks.csv").set_index("variant")

    def cell(v: str, days: bool = True) -> str:
        r = d.loc[v]
        word = " days" if days else ""
        return f"{r.doubling_days_median:.0f}{word} [{r.doubling_days_hdi_low:.0f}, {r.doubling_days_hdi_high:.0f}]"

    text = " ".join(README.split())
    assert f"MMLU-CF (Fig. 2) {cell('MMLU-CF (Fig. 2)')}" in text
    assert f"(Fig. 3c, all 37 models) {cell('MMLU (Fig. 3c)', False)}" in text
    assert "on the 28 models plotted in both" in text
    assert f"MMLU-CF {cell('MMLU-CF (Fig. 2), models also in Fig. 3c')}" in text
    assert f"MMLU {cell('MMLU (Fig. 3c), models also in Fig. 2', False)}." in text
    assert int(d.loc["MMLU-CF (Fig. 2), models also in Fig. 3c", "n_models"]) == 28


def test_benchmarks_hier_block_is_the_recorded_output():
    record = (ROOT / "validation" / "benchmarks_hier_seed1.txt").read_text()
    start = README.index("### Benchmark choice as one model")
    block = README[README.index("```\n", start) + 4 : README.index("\n```", README.index("```\n", start) + 4)]
    lines = [x for x in block.splitlines() if x.strip()]
    assert len(lines) == 10
    missing = [x for x in lines if x not in record.splitlines()]
    assert not missing, missing
    assert "27 min on 2 cores" in README and "1632 s" in record  # 1632 s = 27 min 12 s


def test_score_error_finding_comes_from_the_benchmark_record():
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results_score_error.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "variant" in r]  # (compile lines have none)
    last = {(r["mode"], r["variant"]): r for r in rows}  # the newest row of each mode and variant
    by = {m: [r for (mode, _), r in last.items() if mode == m] for m in ("sampled", "marginalised")}
    text = " ".join(README.split())
    ok = {m: sum(r["converged"] for r in v) for m, v in by.items()}
    top = {m: max(r["max_rhat"] for r in v) for m, v in by.items()}
    assert len(by["sampled"]) == len(by["marginalised"]) == 4
    assert f"{ok['marginalised']} of 4 pass with it against {ok['sampled']} of 4 without" in text
    assert f"max R-hat {top['marginalised']:.3f} against {top['sampled']:.3f}" in text
    i = last[("integrated", "MATH_MBPP")]
    s = last[("sampled", "MATH_MBPP")]
    assert (
        f"R-hat {i['max_rhat']:.3f}, bulk ESS {i['min_ess_bulk']} and {i['divergences']} divergences, but its "
        f"fit takes {i['seconds']:.0f} s against {s['seconds']:.0f} s on the shared model"
    ) in text
    lap = [r for (mode, _), r in last.items() if mode == "laplace"]
    assert len(lap) == 4 and all(r["converged"] and r["divergences"] == 0 for r in lap)
    assert f"all four hard subsets converge (max R-hat {max(r['max_rhat'] for r in lap):.3f}" in text
    assert f"{min(r['min_ess_bulk'] for r in lap)} to {max(r['min_ess_bulk'] for r in lap)}, 0 divergences" in text


def test_benchmarks_axis_numbers_come_from_its_record():
    import pandas as pd

    d = pd.read_csv(ROOT / "validation" / "sensitivity_benchmarks.csv").set_index("variant")
    record = (ROOT / "validation" / "sensitivity_benchmarks_seed1.txt").read_text()
    text = " ".join(README.split())
    med = d["doubling_days_median"]

    def cell(v: str) -> str:
        r = d.loc[v]
        return f"{r.doubling_days_median:.0f} days [{r.doubling_days_hdi_low:.0f}, {r.doubling_days_hdi_high:.0f}]"

    wall = int(record.split(" s in all")[0].rsplit(" ", 1)[1])
    assert f"on the 195 published scores: {wall} s on 2 cores ({wall // 60} min;" in text
    assert f"from {med.min():.0f} days (MATH alone) to {med.max():.0f} days (HumanEval + MBPP)" in text
    assert med.idxmin() == "MATH" and med.idxmax() == "HumanEval+MBPP"
    assert f"all five together give {cell('MMLU+BBH+MATH+HumanEval+MBPP')}" in text
    assert f"the paper's AVERAGE {cell('AVERAGE (paper-implied scores)')}" in text
    five = "MMLU+BBH+MATH+HumanEval+MBPP".split("+")
    drop = sorted(five, key=lambda b: med["+".join(x for x in five if x != b)])
    loo = [f"without {b} {med['+'.join(x for x in five if x != b)]:.0f}" for b in drop]
    assert "leave-one-benchmark-out fits: " + ", ".join([loo[0] + " days", *loo[1:]]) in text
    paper_only = cell("all five, paper's settings only")
    assert f'as_paper"`) gives {paper_only};' in text
    assert f"Normal(0, 5) points) gives {cell('all five, setting offsets')}, against" in text
    n_ok, n = int(d["converged"].sum()), len(d)
    assert f"{n_ok} of {n} fitted variants pass every convergence check" in record
    assert n_ok == n and f"All {n} variants pass every convergence check" in text
    n_div = int(d["divergences"].sum())
    assert f"the worst R-hat is {d['max_rhat'].max():.3f}, {n_div} divergences in all {n}" in text
    assert f"four of the {n} results were reused" in text and int(d["reused"].sum()) == 4
    from bayesdense import inputs, sensitivity
    from bayesdense.spec import load_spec, parse_spec

    texts = {v: t for _, v, t in sensitivity.variants(load_spec("default"), "benchmarks")}
    flags = inputs.prepare(parse_spec(texts["all five, setting offsets"], "v")).obs_other_setting
    assert f"on the {int(flags.sum())} scores evaluated otherwise" in text
    fitted = d[~d["reused"].astype(bool)]["seconds"]
    assert f"times add up to {fitted.sum():.0f} s (median {fitted.median():.0f} s each" in text
    assert f"bulk ESS is {d['min_ess_bulk'].min():.0f} in 8,000 draws" in text
    assert f"34 variants with Laplace latents, {wall} s, every variant converged" in text
    assert f"Keeping only the {int((~flags).sum())} scores evaluated as the paper's" in text


def test_time_forward_numbers_come_from_the_record():
    lines = (ROOT / "validation" / "forward_default_seed1.txt").read_text().splitlines()
    rows = [x.split() for x in lines if x[:4] == "2024"]
    cover = [f"{float(r[3]):.0%}" for r in rows]
    text = " ".join(README.split())
    assert f"contained {', '.join(cover[:-1])} and {cover[-1]} of the later models" in text
    vtext = (ROOT / "validation" / "README.md").read_text()
    for r in rows:
        cells = f"| {r[0]} | {r[1]} / {r[2]} | {r[3]} | {r[4]} | {r[9]} / {r[10]} ({r[7]} record"
        assert cells in vtext and f"| {r[12]} |" in vtext, cells


def test_loss_law_mode_numbers_come_from_the_record():
    rows: dict[str, list[list[str]]] = {}
    for x in (ROOT / "validation" / "loss_law_modes_multibench.txt").read_text().splitlines():
        parts = x.split()
        if parts and parts[0] in ("MMLU", "BBH", "MATH", "HumanEval", "MBPP"):
            rows.setdefault(parts[0], []).append(parts)
    text = " ".join(README.split())
    (mmlu,) = rows["MMLU"]
    math_best, math_paper = rows["MATH"]
    bbh = rows["BBH"]
    assert f"MMLU has a single mode at alpha = {mmlu[1]} (the paper's {mmlu[7]} is no optimum at all)" in text
    assert (
        f"MATH's best mode is alpha = {math_best[1]} with RSS {math_best[3]} against {math_paper[3]} "
        f"at the paper's {math_paper[1]}" in text
    )
    assert f"({bbh[0][1]} and {bbh[1][1]}, RSS {bbh[0][3]} and {bbh[1][3]})" in text
    assert f"HumanEval ({rows['HumanEval'][0][1]}) and MBPP ({rows['MBPP'][0][1]})" in text


def test_parameterisation_numbers_come_from_the_benchmark_record():
    import numpy as np

    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results_parameterisation.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["spec"] == "default"]
    # two runs: centred against non-centred, then (later rows) centred against offset
    first_offset = next(i for i, r in enumerate(rows) if r["parameterisation"] == "offset")
    start = max(i for i in range(first_offset) if rows[i]["parameterisation"] == "centred")
    runs = {"non_centred": rows[:start], "offset": rows[start:]}

    def med(run: str, par: str, key: str) -> float:
        return float(np.median([r[key] for r in runs[run] if r["parameterisation"] == par]))

    text = " ".join(README.split())
    for run in runs:
        seeds = " and ".join(map(str, sorted({r["seed"] for r in runs[run]})))
        assert seeds == "1 and 2", run
    ratio = med("non_centred", "non_centred", "mean_leapfrog_steps") / med(
        "non_centred", "centred", "mean_leapfrog_steps"
    )
    assert (
        f"(median over seeds 1 and 2: {med('non_centred', 'non_centred', 'min_ess_bulk'):.0f} against "
        f"{med('non_centred', 'centred', 'min_ess_bulk'):.0f}) at {ratio:.2f} times the leapfrog steps" in text
    )

    def ratio_of(key: str) -> str:
        return f"{med('offset', 'offset', key) / med('offset', 'centred', key):.2f}"

    assert (
        f"Offset latent densities take {ratio_of('mean_leapfrog_steps')} times the leapfrog steps and give "
        f"{ratio_of('min_ess_bulk')} times the smallest bulk ESS (median over seeds 1 and 2: "
        f"{med('offset', 'offset', 'min_ess_bulk'):.0f} against {med('offset', 'centred', 'min_ess_bulk'):.0f}) "
        f"in {ratio_of('wall_seconds')} times the sampling time" in text
    )
    centred = [r for r in runs["offset"] if r["parameterisation"] == "centred"]
    steps = sorted(r["mean_leapfrog_steps"] for r in centred)
    sizes = sorted(r["mean_step_size"] for r in centred)
    assert (
        f"held its step size at {sizes[0]:.3f}-{sizes[-1]:.3f} and took {steps[0]:.1f}-{steps[-1]:.1f} leapfrog "
        f"steps a draw on the default spec" in text
    )
    assert (
        f"takes {ratio_of('mean_leapfrog_steps')} times the steps for {ratio_of('min_ess_bulk')} times the "
        "smallest bulk ESS" in text
    )


def test_multibench_numbers_come_from_the_record():
    rec = (ROOT / "validation" / "multibench_seed1.txt").read_text()
    rate = next(x for x in rec.splitlines() if x.startswith("  growth rate "))
    dbl = next(x for x in rec.splitlines() if x.startswith("  doubling time "))
    diag = next(x for x in rec.splitlines() if x.startswith("Diagnostics:"))
    r = rate.split()
    d = dbl.split()
    text = " ".join(README.split())
    expected = f"gives {r[2]} per day {r[5]} {r[6]} doubling in {d[2]} days {d[4]} {d[5]}".replace(",", "")
    assert expected in text.replace(",", "")
    rhat = diag.split("max R-hat ")[1].split()[0]
    ess = diag.split("min bulk ESS ")[1].split()[0]
    div = diag.split("divergences ")[1].split(",")[0]
    assert f"R-hat {rhat}, bulk ESS {ess}, {div} divergence" in text


def test_spec_table_rows_come_from_the_recorded_fits():
    """Each growth-rate interval in the README's spec table is the one its recorded fit printed."""
    rows = {r.split("|")[1].strip(" `"): r for r in README.splitlines() if r.startswith("| `")}

    def line(record: str, label: str) -> str:
        text = (ROOT / "validation" / record).read_text().splitlines()
        parts = next(x for x in text if x.startswith(f"  {label} ")).split()
        i = parts.index("per")
        return f"{parts[i - 1]} {parts[i + 2]} {parts[i + 3]}"

    for spec, record in (
        ("default", "main_job_default_seed1.txt"),
        ("records", "records_seed1.txt"),
        ("trend_fig2", "trend_fig2_seed1.txt"),
        ("trend_fig3c", "trend_fig3c_seed1.txt"),
        ("multibench", "multibench_seed1.txt"),
        ("mmlu_scores", "mmlu_scores_seed1.txt"),
        ("leaderboard", "leaderboard_seed1.txt"),
        ("leaderboard_by_type", "leaderboard_by_type_seed1.txt"),
    ):
        assert line(record, "growth rate") in rows[spec], spec
        assert f"`validation/{record}`" in rows[spec], spec
    cp = rows["changepoint_fig3c"]
    after = line("changepoint_fig3c_seed1.txt", "after")
    before = line("changepoint_fig3c_seed1.txt", "before")
    assert f"after {after}, before {before}" in cp


def test_records_density_numbers_come_from_the_record():
    import re

    rows = []
    for x in (ROOT / "validation" / "records_models_seed1.txt").read_text().splitlines():
        m = re.match(r"  (\S+)\s+([0-9.]+) \[([0-9.]+), ([0-9.]+)\]\s+paper ([0-9.]+)", x)
        if m:
            rows.append((m.group(1), *map(float, m.groups()[1:])))
    dev = {name: med / paper - 1 for name, med, _, _, paper in rows}
    close = sum(abs(d) <= 0.10 for d in dev.values())
    worst = max(dev, key=lambda k: abs(dev[k]))
    inside = sum(lo <= paper <= hi for _, _, lo, hi, paper in rows)
    text = " ".join(README.split())
    assert (
        f"within 10% of the published ones for {close} of {len(rows)} models ({worst}, the longest extrapolation, "
        f"{dev[worst]:+.1%}), and all {inside} published densities lie inside their 94% HDIs" in text
    )
    assert inside == len(rows) == 51


def test_every_readme_figure_is_in_the_docs_manifest_at_a_column_width():
    """docs/figures.json (tools/make_docs_figures.py) names the command and source of every figure
    the README shows, and each PNG is exactly 3.5 or 7.2 in wide at 300 dpi."""
    import re
    import struct

    manifest = json.loads((ROOT / "docs" / "figures.json").read_text())
    shown = set(re.findall(r"docs/([a-z_0-9]+\.png)", README))
    assert shown <= set(manifest), shown - set(manifest)
    for name, entry in manifest.items():
        width = struct.unpack(">II", (ROOT / "docs" / name).read_bytes()[16:24])[0]
        assert width in (1050, 2160), (name, width)
        assert entry["command"].startswith(f"bayesdense plot {entry['source']} ")
        if entry["source"].startswith("validation/"):
            assert (ROOT / entry["source"]).is_file(), entry["source"]
        else:
            assert entry["spec_hash"] and entry["data_hash"] and entry["seed"] is not None, name


def _min_s(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s} s"


def test_structural_timing_numbers_come_from_the_benchmark_record():
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results_structural.jsonl").read_text().splitlines()]
    idle = next(r for r in rows if "idle" in r.get("machine", "") and r.get("members_converged") is None)
    loaded = rows[0]
    trial = next(r for r in rows if 'target_accept\\": 0.9' in r["command"] or "0.9}" in r["command"])
    text = " ".join(README.split())
    m, s = divmod(idle["wall_seconds"], 60)
    lm, ls = divmod(loaded["wall_seconds"], 60)
    assert f"{m} min {s} s wall and {idle['cpu_user_seconds']} CPU-seconds (idle)" in text
    assert f"; {lm} min {ls} s under load" in text
    bench = [r for r in rows if r["command"].startswith("python benchmarks/bench_structural.py")]
    both = next(r for r in bench if len(r["rows"]) == 2)
    base, cur = both["rows"]
    colds = [r for r in bench if r["command"].endswith("--cold")]
    cold, trial, shared_runs = colds[0]["rows"][0], colds[1], colds[2:4]
    assert "reverted" in trial["note"]
    assert cur["member_sampler"] == {"chains": 2, "draws": 1000, "tune": 1000}  # shipped 2026-12-03
    walls = [r["rows"][0]["wall_seconds"] for r in shared_runs]
    cpus = sorted(r["rows"][0]["cpu_seconds"] for r in shared_runs)
    assert f"{_min_s(walls[0])} and {_min_s(walls[1])} in two runs" in text
    study = _load("structural_default.json")
    refitted = sum(m["refit"] is not None for m in study["members"])
    assert f"the recorded study took {study['seconds']:.0f} s" in text
    assert f"{['no', 'one', 'two', 'three'][refitted]} members refitted" in text
    # the shipped member sampler: every cold run with it under 5 minutes, all members converged
    from bayesdense.structural import MEMBER_SAMPLER

    now = [r["rows"][0] for r in colds if r["rows"][0]["member_sampler"] == MEMBER_SAMPLER]
    assert len(now) >= 2 and all(r["wall_seconds"] <= 300 and r["members_converged"] == 24 for r in now)
    assert f"now takes {_min_s(now[-2]['wall_seconds'])} and {_min_s(now[-1]['wall_seconds'])} in two runs" in text
    refit_rows = {r.get("commit"): r["rows"][0] for r in colds}
    chains, target = refit_rows["544f9ec"], refit_rows["265479d"]
    assert chains["members_converged"] == 22 and "the row of commit 544f9ec: 22 of 24 converged" in text
    assert target["members_converged"] == 24 and f"took {_min_s(target['wall_seconds'])}, 24 of 24" in text
    offset_run = colds[4]["rows"][0]
    assert offset_run["sf_mean_leapfrog_steps"] < 31  # the run after offset latents (commit 762b01b)
    assert f"in two runs, {_min_s(offset_run['wall_seconds'])} with offset latents" in text
    assert f"against {_min_s(cold['wall_seconds'])} before the members shared compiled models" in text
    assert f"from {cold['cpu_seconds']:.0f} to {cpus[0]:.0f}-{cpus[1]:.0f} seconds" in text
    assert [r["rows"][0]["members_converged"] for r in shared_runs] == [23, 24]
    assert f"came to take {cur['sf_mean_leapfrog_steps']:.0f} leapfrog steps per iteration instead of" in text
    ratio = cur["wall_seconds"] / base["wall_seconds"]
    assert f"instead of {base['sf_mean_leapfrog_steps']:.0f} ({ratio:.2f} of the time" in text


def test_reference_axis_numbers_come_from_the_record():
    rec = (ROOT / "validation" / "sensitivity_reference_seed1.txt").read_text().splitlines()
    lines = _block_after("Recorded in\n`validation/sensitivity_reference_seed1.txt`")
    assert len(lines) >= 3 and all(x in rec for x in lines), lines
    days = {}
    for x in rec:
        if x.startswith("  reference "):
            name = "paper" if "paper's family" in x else "public"
            d = x.split("doubling")[1].split("P(A>0)")[0].split()
            days[name] = (int(d[0]), d[2].strip("[,"), d[3].strip("]"))
    text = " ".join(README.split())
    (p, plo, phi), (q, qlo, qhi) = days["paper"], days["public"]
    assert f"double every {p} days against the paper's family and {q} days against the public one" in text
    assert f"moves the median by {q - p} days" in text
    assert f"give {p} days [{plo}, {phi}] against the paper's six reference models and {q} days [{qlo}, {qhi}]" in text


def test_own_family_example_is_the_recorded_output():
    rec = (ROOT / "validation" / "own_family_example_seed1.txt").read_text().splitlines()
    lines = _block_after("`validation/own_family_example_seed1.txt`")
    assert len(lines) >= 10 and all(x in rec for x in lines), [x for x in lines if x not in rec]
    dbl = next(x for x in rec if x.startswith("  doubling time ")).split()
    lo, hi = int(dbl[4].strip("[,")), int(dbl[5].strip("]"))
    assert lo <= 150 <= hi  # "The true doubling time, 150 days, lies inside the interval"
    assert "Held-out link points inside their 94% predictive interval: 4 of 4" in rec


def test_calibration_cost_numbers_come_from_the_record():
    """validation/README.md and the README's limits quote the 4-simulation cost run of calibrate."""
    rec = _load("calibrate_cost_default_sims4.json")
    fits = rec["fits"]
    assert rec["production_settings"] and rec["sims"] == 4
    secs = [round(f["seconds"]) for f in fits]
    mean = sum(f["seconds"] for f in fits) / len(fits)
    hours = 200 * mean / 2 / 3600
    conv = sum(f["converged"] for f in fits)
    val = " ".join((ROOT / "validation" / "README.md").read_text().split())
    text = " ".join(README.split())
    assert f"{secs[0]}, {secs[1]}, {secs[2]} and {secs[3]} s per simulation" in val
    assert f"200 x {mean:.0f} s / 2 = {hours:.1f} hours on two cores" in val
    bad = [f for f in fits if not f["converged"]]
    assert f"max R-hat {bad[0]['max_rhat']:.3f}, {bad[1]['max_rhat']:.3f} and {bad[2]['max_rhat']:.3f}" in val
    assert f"{', '.join(str(f['divergences']) for f in bad[:2])} and {bad[2]['divergences']} divergences" in val
    assert f"took {min(secs)}-{max(secs)} s each and {conv} of 4 converged" in text
    assert f"so 200 need about {hours:.1f} hours on two cores" in text


def posterior_sbc_rows(rec: dict) -> list[str]:
    """validation/README.md's table of the posterior SBC record, one row per ranked quantity."""
    from bayesdense.plots import sbc_ranks_data

    inside = {q: v["inside_band"] for q, v in sbc_ranks_data(rec)["quantities"].items()}
    return [
        f"| {r['quantity']} | {r['uniformity_p']:.3f} | {r['coverage_50']:.2f} | {r['coverage_94']:.2f} | "
        f"{r['hdi_coverage_94']:.2f} | {r['mean_rank_fraction']:.3f} | {'yes' if inside[r['quantity']] else 'no'} |"
        for r in rec["summary"]
    ]


def test_posterior_sbc_numbers_come_from_the_record():
    """The recorded posterior SBC of the default spec: production settings, every row of the table in
    validation/README.md and the README's summary sentence recomputed from the record."""
    rec = _load("sbc_default_posterior.json")
    assert rec["around"] == "posterior" and rec["production_settings"] and rec["sims"] >= 200
    val = (ROOT / "validation" / "README.md").read_text()
    missing = [row for row in posterior_sbc_rows(rec) if row not in val]
    assert not missing, missing
    text = " ".join(README.split())
    vtext = " ".join(val.split())
    summ = rec["summary"]
    hdi = [r["hdi_coverage_94"] for r in summ]
    p = [r["uniformity_p"] for r in summ]
    cpu = sum(f["cpu_seconds"] for f in rec["fits"])
    secs = sorted(f["seconds"] for f in rec["fits"])
    wall = sum(secs) / 2 + rec["posterior_fit"]["seconds"]
    for t in (text, vtext):
        assert f"{rec['n_converged']} of {rec['sims']} fits converged" in t
        assert f"the 94% HDIs covered the truth in {min(hdi):.1%} to {max(hdi):.1%} of the simulations" in t
        assert f"rank-uniformity p from {min(p):.3f} to {max(p):.3f}" in t
        assert f"about {round(wall / 60, -1):.0f} minutes of wall time" in t
    cov = [r["coverage_94"] for r in summ]
    assert f"central 94% intervals in {min(cov):.0%} to {max(cov):.0%}" in vtext
    assert f"{cpu / 3600:.1f} CPU-hours" in vtext and f"median {statistics.median(secs):.0f} s per simulation" in vtext
    assert f"Max R-hat over all fits {max(f['max_rhat'] for f in rec['fits']):.3f}" in vtext
    assert f"in any fit {min(f['min_ess_bulk'] for f in rec['fits']):.0f}" in vtext
    pf = rec["posterior_fit"]
    assert f"{pf['draws']} draws, max R-hat {pf['max_rhat']:.3f}, no divergences" in vtext and pf["divergences"] == 0


def test_main_job_timing_comes_from_the_benchmark_record():
    """Performance's main-job line: the newest `bench_fit.py` row of benchmarks/results.jsonl."""
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results.jsonl").read_text().splitlines()]
    m = [r for r in rows if "main_job" in r][-1]["main_job"]
    warm = ", ".join(f"{w}" for w in m["warm_wall_s_all"])
    text = " ".join(README.split())
    assert f"{m['cold_wall_s']} s with cold caches, {m['warm_wall_s_median']} s warm (median of {warm} s;" in text, (
        "README Performance main job line"
    )
    assert f"R-hat {max(m['max_rhat']):.3f}, min bulk ESS {min(m['min_ess_bulk'])}" in text


def test_peer_numbers_come_from_the_benchmark_record():
    """The Stan peer bullet (Performance) and its RESULTS.md table: the newest bench_peers summary."""
    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "results_peers.jsonl").read_text().splitlines()]
    summary = [r for r in rows if r.get("kind") == "summary" and not r.get("cold_caches")][-1]
    m = {x["method"]: x for x in summary["methods"]}
    ratio = summary["ratio_bd_over_stan_dense"]
    text = " ".join(README.split())
    assert (
        f"min bulk ESS per second of sampling, bayesdense {m['bayesdense']['ess_per_s_median']:.1f}, Stan "
        f"`dense_e` {m['stan_dense']['ess_per_s_median']:.1f}, Stan diagonal {m['stan_diag']['ess_per_s_median']:.1f}, "
        f"PyMC's `pm.sample()` {m['pymc']['ess_per_s_median']:.2f}; bayesdense / Stan `dense_e` = "
        f"{ratio['ess_per_s']:.2f}x ({ratio['ess_per_s_incl_compile']:.2f}x once bayesdense's "
        f"{m['bayesdense']['compile_s']:.1f} s of JAX compilation"
    ) in text
    assert f"bayesdense samples {ratio['ess_per_s']:.2f}x as many effective draws per second" in text
    results = " ".join((ROOT / "benchmarks" / "RESULTS.md").read_text().split())
    row = m["bayesdense"]
    assert (
        f"| {row['sample_s_median']:.1f} | {row['min_ess_bulk_median']:.0f} | {row['ess_per_s_median']:.1f} | "
        f"{row['ess_per_s_incl_compile']:.1f} |"
    ) in results
    assert f"bayesdense / Stan `dense_e`: {ratio['ess_per_s']:.2f}x the ESS per second of sampling" in results


def test_leaderboard_finding_numbers_come_from_the_records():
    """Finding 16: the leaderboard fit, its types and its dates, from their validation records."""
    text = " ".join(README.split())
    rec = (ROOT / "validation" / "leaderboard_seed1.txt").read_text().splitlines()
    growth = next(x for x in rec if x.startswith("  growth rate ")).split()
    doubling = next(x for x in rec if x.startswith("  doubling time ")).split()
    seconds = next(x for x in rec if x.startswith("Diagnostics:")).split()[-2]
    assert (
        f"5,354 entries in {seconds} s, growth {growth[2]} per day {growth[5]} {growth[6]}, doubling time "
        f"{doubling[7]} months {doubling[9]} {doubling[10]}"
    ) in text
    dates = (ROOT / "validation" / "leaderboard_dates_seed1.txt").read_text()
    found = {}
    for line in dates.splitlines():
        if line.startswith("  submission dates") or line.startswith("  release dates"):
            g = line.split()
            i = g.index("months;")
            found[g[0]] = (f"{g[i - 4]} {g[i - 3]} {g[i - 2]}", g[i - 1])
    (sub, sub_m), (rel, rel_m) = found["submission"], found["release"]
    assert f"moves the growth rate from {sub} to {rel} per day ({sub_m} to {rel_m} months" in text
    lag = next(x for x in dates.splitlines() if x.startswith("Lag from release"))
    assert f"median of {lag.split()[6]} days for the {lag.split()[10]} released before 2023-09" in text


def test_dask_numbers_come_from_the_benchmark_record():
    row = newest(ROOT / "benchmarks" / "results_dask.jsonl")
    text = " ".join(README.split())
    assert (
        f"took {row['local_seconds']} s on {row['workers']} local worker processes and {row['dask_seconds']} s on a "
        f"`LocalCluster` of {row['workers']} single-threaded worker processes ({row['dask_over_local']:.2f}x; the "
        f"cluster started in {row['cluster_start_seconds']} s)"
    ) in text
    assert f"differ by up to {row['max_abs_growth_difference']:.5f} per day" in text
    assert all(row["all_converged"].values())


def test_entry_type_numbers_come_from_the_record():
    rec = (ROOT / "validation" / "leaderboard_by_type_seed1.txt").read_text().splitlines()
    row = {x.split()[0]: x.split() for x in rec if x.startswith("  ") and len(x.split()) == 8}
    text = " ".join(README.split())
    growth = next(x for x in rec if x.startswith("  growth rate ")).split()
    diag = next(x for x in rec if x.startswith("Diagnostics:"))
    divergences = diag.split("divergences ")[1].split(",")[0]
    rhat = diag.split("max R-hat ")[1].split()[0]
    assert f"{divergences} divergences, R-hat {rhat}) the growth rate is {' '.join(growth[2:3] + growth[5:7])}" in text
    assert f"merges (scale {row['merge'][2]}) and chat models ({row['chat'][2]})" in text
    assert (
        f"median entry at {row['merge'][5]} and {row['chat'][5]} of its density, fine-tunes at {row['fine_tuned'][5]}"
        in text
    )
    assert f"base models furthest ({row['pretrained'][2]}; {row['pretrained'][5]})" in text
