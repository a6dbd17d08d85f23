"""The README's "Using it" snippets run as written, quickly, and say what they show."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).parent.parent / "README.md"


def test_the_using_it_snippets_run_and_their_comments_hold(tmp_path, monkeypatch):
    text = README.read_text()
    section = text[text.index("## Using it"):text.index("### Networks from elsewhere")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    path, alg2, one = namespace["path"], namespace["alg2"], namespace["one"]
    assert len(path.jumps) == 0 and path.unique.all() and abs(path.L - 0.37) < 0.01
    np.testing.assert_allclose(alg2.iterates, path.minimizers, atol=1e-9)
    literal = namespace["L"].projected_surf(namespace["flow"], namespace["y50"], 0.05, bounds=(-3, 3),
                                            method="projected_gradient")
    np.testing.assert_allclose(literal.iterates, alg2.iterates, atol=1e-9)
    assert one.x.shape == (2,)
    assert namespace["found"].x.shape == (1, 2) and namespace["phi"].training["rounds"] == 10
    for name, method in (("unmasked", "plugin"), ("projected", "pgd_gan"), ("sampled", "langevin")):
        result = namespace[name]
        assert result.method == method and result.x.shape == (len(namespace["Y"]), 2) and np.isfinite(result.value).all()
    at_x5 = [certified for m, certified in namespace["slice_minima"] if np.linalg.norm(m.x) < 1e-6 and m.value < 1e-20]
    assert at_x5 == [True]  # x5 is the minimum at s = (0, 0), certified in R^5
    certificate = namespace["certificate"]
    assert certificate.certified and certificate.value < 1e-20 and certificate.lower_bound <= certificate.value
    profile = namespace["profile"]
    assert profile.values[-1] < 1e-20 and profile.highest >= profile.values[0] and profile.barrier >= 0
