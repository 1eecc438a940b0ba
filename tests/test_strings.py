"""isin on string ids, in Arrow, agrees with pandas."""

from __future__ import annotations


def test_string_isin_matches_pandas_including_missing_values():
    import numpy as np
    import pandas as pd

    from wergap._strings import isin

    values = pd.Series(["a", "b", None, "d"], dtype="str")
    for candidates in (["a", "d"], pd.Index(["b", None], dtype="str"), {"zz"}, np.array(["d"], dtype=object)):
        expected = values.isin(list(candidates)).to_numpy()
        assert isin(values, candidates).tolist() == expected.tolist()
    assert isin(pd.Index([1, 2, 3]), [2]).tolist() == [False, True, False]  # not text: pandas' own isin
