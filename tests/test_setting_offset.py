"""``data.score_settings = "offset"``: every published score is kept, and those not evaluated as the
paper's (another shot count, or an instruct/chat model) are their benchmark's score plus that
benchmark's setting offset. The likelihood must equal the plain model's on shifted scores."""

import dataclasses

import numpy as np
import pytest

from bayesdense import inputs, sensitivity
from bayesdense.models import build
from bayesdense.spec import load_spec, parse_spec


def _variant(name: str):  # type: ignore[no-untyped-def]
    texts = {n: t for _, n, t in sensitivity.variants(load_spec("default"), "benchmarks")}
    return parse_spec(texts[name], name)


def test_offset_variant_keeps_every_score_and_flags_the_other_settings() -> None:
    plain, shifted = _variant("MMLU+BBH+MATH+HumanEval+MBPP"), _variant("all five, setting offsets")
    fd_plain, fd_off = inputs.prepare(plain), inputs.prepare(shifted)
    np.testing.assert_array_equal(fd_plain.obs_score, fd_off.obs_score)
    assert fd_plain.obs_other_setting.size == 0
    flags = fd_off.obs_other_setting
    paper = inputs.prepare(_variant("all five, paper's settings only"))
    # the flagged scores are exactly those the paper's-settings variant leaves out
    assert int((~flags).sum()) == len(paper.obs_score)
    assert 0 < flags.sum() < len(flags)
    back = inputs.FitData.from_dataset(fd_off.to_dataset())  # stored in a result's fit_data group
    np.testing.assert_array_equal(back.obs_other_setting, flags)


def test_offset_shifts_only_the_flagged_scores() -> None:
    plain, shifted = _variant("MMLU+BBH+MATH+HumanEval+MBPP"), _variant("all five, setting offsets")
    fd_plain, fd_off = inputs.prepare(plain), inputs.prepare(shifted)
    m_off = build(shifted, fd_off)
    offsets = np.array([1.5, -2.0, 3.0, 0.5, -1.0])
    moved = fd_off.obs_score - offsets[fd_off.obs_bench] * fd_off.obs_other_setting
    m_plain = build(plain, dataclasses.replace(fd_plain, obs_score=moved))
    pt = m_off.initial_point()
    pt["setting_offset"] = offsets
    lp_off = m_off.compile_logp(vars=[m_off["score"]], mode="FAST_COMPILE")(pt)
    plain_pt = {k: v for k, v in pt.items() if k != "setting_offset"}
    lp_plain = m_plain.compile_logp(vars=[m_plain["score"]], mode="FAST_COMPILE")(plain_pt)
    assert lp_off == pytest.approx(lp_plain, rel=1e-12)
    # and the offsets matter: unshifted scores give another likelihood
    m_unshifted = build(plain, fd_plain)
    lp_unshifted = m_unshifted.compile_logp(vars=[m_unshifted["score"]], mode="FAST_COMPILE")(plain_pt)
    assert abs(lp_unshifted - lp_off) > 1.0
