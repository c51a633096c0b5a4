"""Two builds of allied5g give the same bits. When A5_OTHER_BIN names another build
(the sanitizer suite sets it to the release build: -O3, hot loops vectorised for
AVX-512/AVX2 and picked at run time, against -O0 scalar code), both run the same
scenarios and every variable of the results must be identical."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN, SRC, same_data

sys.path.insert(0, str(SRC / "bench"))
from make_scenario import scenario  # noqa: E402

OTHER = os.environ.get("A5_OTHER_BIN")
pytestmark = pytest.mark.skipif(not OTHER or not Path(OTHER).exists(),
                                reason="no other build to compare with (A5_OTHER_BIN)")


@pytest.mark.parametrize("nations,peer", [(30, 1.0), (7, 0.0), (41, 2.0)])
def test_same_bits_as_other_build(tmp_path, nations, peer):
    s = tmp_path / "s.yaml"
    text = scenario(nations=nations, steps=24, replicates=300, store="full")
    assert "peer: 1," in text
    s.write_text(text.replace("peer: 1,", f"peer: {peer},"))
    outs = []
    for k, b in enumerate((BIN, OTHER)):
        o = tmp_path / f"o{k}.h5"
        subprocess.run([b, "run", str(s), "-o", str(o), "--quiet", "--threads", str(k + 1)],
                       check=True, timeout=600)
        outs.append(o)
    same_data(*outs)


def test_same_bits_default_scenario(tmp_path):
    outs = []
    for k, b in enumerate((BIN, OTHER)):
        o = tmp_path / f"d{k}.h5"
        subprocess.run([b, "run", str(SRC / "scenarios" / "huawei_2019.yaml"), "-o", str(o),
                        "--quiet", "--replicates", "200", "--store", "full"], check=True,
                       timeout=600)
        outs.append(o)
    same_data(*outs)
