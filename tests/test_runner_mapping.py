"""The map phase: Hungarian assignment, min_score, tie-breaks, order independence."""

from __future__ import annotations

import itertools
import random

from runner.mapping import FLOAT_EXACT, _weights, assign, scale


def by_position(result, positions):
    """{sheet column: field} — independent of presentation order."""
    return {positions[c]: f for c, f in enumerate(result) if f is not None}


def test_hungarian_beats_greedy_when_a_column_ties_and_loses_its_best_field():
    # Column 0 ties on x and y; column 1 only fits x. Greedy (left to right, first
    # best field) gives column 0 x and leaves column 1 empty: total 3. Optimal: 6.
    scores = [[3.0, 3.0], [3.0, 0.0]]
    features = [[1, 1], [1, 0]]
    assert assign(scores, features, [0, 1], 1.0) == [1, 0]


def test_hungarian_beats_global_greedy_on_the_best_pair():
    # Greedy takes the single best pair (col 0, x = 5) and strands column 1.
    scores = [[5.0, 4.0], [4.0, 0.0]]
    assert assign(scores, [[1, 1], [1, 0]], [0, 1], 1.0) == [1, 0]


def test_equal_totals_prefer_more_features():
    # Both matchings total 4; the crossed one has 4 features against 2, and wins
    # even though the left-most rule alone would give x column 0.
    scores = [[2.0, 2.0], [2.0, 2.0]]
    features = [[1, 2], [2, 1]]
    assert assign(scores, features, [0, 1], 1.0) == [1, 0]


def test_then_earlier_fields_take_earlier_columns():
    scores = [[2.0, 2.0, 2.0]] * 3
    features = [[1, 1, 1]] * 3
    assert assign(scores, features, [0, 1, 2], 1.0) == [0, 1, 2]
    # Presented right to left: sheet order still decides.
    assert assign(scores, features, [7, 5, 3], 1.0) == [2, 1, 0]


def test_earlier_field_wins_a_single_contested_column():
    assert assign([[1.5, 1.5]], [[1, 1]], [4], 1.0) == [0]


def test_left_most_rule_only_among_optimal_assignments():
    # Field x prefers column 0 by the rule, but x on column 1 is required for the
    # optimum (y only fits column 0).
    scores = [[2.0, 2.0], [2.0, 0.0]]
    assert assign(scores, [[1, 1], [1, 0]], [0, 1], 1.0) == [1, 0]


def test_scores_below_min_score_are_zeroed_before_and_dropped_after():
    # Unzeroed, the solver would take (col 0, y = 0.9) + (col 1, x = 2.5) = 3.4 over
    # (col 0, x = 3) and then drop y, mapping only 2.5. Zeroed first: col 0 -> x.
    scores = [[3.0, 0.9], [2.5, 0.0]]
    features = [[1, 1], [1, 0]]
    assert assign(scores, features, [0, 1], 1.0) == [0, None]
    assert assign([[0.99]], [[1]], [0], 1.0) == [None]
    assert assign([[1.0]], [[1]], [0], 1.0) == [0]


def test_zero_and_negative_scores_never_map():
    assert assign([[0.0, -2.0]], [[0, 1]], [0], 0.0) == [None]
    assert assign([[0.0, -2.0]], [[0, 1]], [0], -5.0) == [None]
    assert assign([[0.004]], [[1]], [0], 0.0) == [None]  # rounds to 0 scaled


def test_empty_inputs():
    assert assign([], [], [], 1.0) == []
    assert assign([[], []], [[], []], [0, 1], 1.0) == [None, None]


def test_more_columns_than_fields_and_the_reverse():
    scores = [[1.0], [3.0], [2.0]]
    assert assign(scores, [[1], [1], [1]], [0, 1, 2], 1.0) == [None, 0, None]
    assert assign([[1.0, 3.0, 2.0]], [[1, 1, 1]], [0], 1.0) == [1]


def test_weights_stay_below_2_53_even_for_huge_scores():
    scores = [[1e300, 5e12], [-1e300, 3.0]]
    weights = _weights(scores, [[40, 40], [40, 40]], 1.0)
    assert max(max(r) for r in weights) < FLOAT_EXACT
    assert assign(scores, [[40, 40], [40, 40]], [0, 1], 1.0) == [0, 1]
    assert scale(1e300) == scale(1e20)


def brute_force(scores, features, positions, min_score):
    """The specified answer by enumeration: max (score, features), then left-most."""
    n_cols, n_fields = len(scores), len(scores[0])
    pairs = [
        (c, f)
        for c in range(n_cols)
        for f in range(n_fields)
        if scores[c][f] >= min_score and scale(scores[c][f]) > 0
    ]
    best_key, best = None, None
    for k in range(min(n_cols, n_fields) + 1):
        for chosen in itertools.combinations(pairs, k):
            if len({c for c, _ in chosen}) < k or len({f for _, f in chosen}) < k:
                continue
            where = {f: positions[c] for c, f in chosen}
            key = (
                sum(scale(scores[c][f]) for c, f in chosen),
                sum(features[c][f] for c, f in chosen),
                tuple(-where.get(f, 10**9) for f in range(n_fields)),
            )
            if best_key is None or key > best_key:
                best_key, best = key, chosen
    result = [None] * n_cols
    for c, f in best:
        result[c] = f
    return result


def random_problem(rnd, n_cols, n_fields):
    """Scores and features with many ties (where solvers disagree)."""
    levels = [0.0, 0.5, 1.0, 2.0, 2.0, 2.0, 3.5]
    scores = [[rnd.choice(levels) for _ in range(n_fields)] for _ in range(n_cols)]
    features = [[rnd.choice([1, 1, 1, 2]) if s else 0 for s in row] for row in scores]
    positions = rnd.sample(range(20), n_cols)
    return scores, features, positions


def test_matches_brute_force_on_tie_heavy_problems():
    rnd = random.Random(7)
    for _ in range(300):
        n_cols, n_fields = rnd.randint(1, 4), rnd.randint(1, 4)
        scores, features, positions = random_problem(rnd, n_cols, n_fields)
        assert assign(scores, features, positions, 1.0) == brute_force(
            scores, features, positions, 1.0
        ), (scores, features, positions)


def test_every_permutation_of_columns_gives_the_same_mapping():
    rnd = random.Random(11)
    for _ in range(20):
        scores, features, positions = random_problem(rnd, 5, 4)
        expected = by_position(assign(scores, features, positions, 1.0), positions)
        for perm in itertools.permutations(range(5)):
            got = assign(
                [scores[c] for c in perm],
                [features[c] for c in perm],
                [positions[c] for c in perm],
                1.0,
            )
            assert by_position(got, [positions[c] for c in perm]) == expected


def test_random_larger_permutations_give_the_same_mapping():
    rnd = random.Random(3)
    for _ in range(30):
        scores, features, positions = random_problem(rnd, 14, 10)
        expected = by_position(assign(scores, features, positions, 1.0), positions)
        perm = list(range(14))
        rnd.shuffle(perm)
        got = assign(
            [scores[c] for c in perm],
            [features[c] for c in perm],
            [positions[c] for c in perm],
            1.0,
        )
        assert by_position(got, [positions[c] for c in perm]) == expected


def test_feature_tie_break_is_dropped_rather_than_losing_exactness():
    # 100 × 100 near-maximal scores with many features cannot fold features in below
    # 2**53; the solver then ranks by score alone and the matching is still optimal.
    n = 100
    scores = [[5e6 if (c + f) % 3 else 1e7 for f in range(n)] for c in range(n)]
    features = [[1000] * n for _ in range(n)]
    weights = _weights(scores, features, 1.0)
    assert max(max(r) for r in weights) == scale(1e7)  # scores only
    result = assign(scores, features, list(range(n)), 1.0)
    assert sorted(result) == list(range(n))
    assert all((c + f) % 3 == 0 for c, f in enumerate(result))


def _assign_with_solver_only(monkeypatch, *args):
    import runner.mapping as mapping

    with monkeypatch.context() as m:
        m.setattr(mapping, "_best_rows", lambda *_a: None)
        m.setattr(mapping, "ENUMERATE_UP_TO", 0)
        return mapping.assign(*args)


def test_the_no_solver_paths_give_what_the_solver_gives(monkeypatch):
    # Problems with few ties and tie-heavy ones, small and larger: each goes to
    # the best-rows shortcut, the enumeration or the solver, and the answer is the
    # solver's every time.
    import runner.mapping as mapping

    rnd = random.Random(5)
    paths = {"best rows": 0, "enumerated": 0, "solver": 0}
    for i in range(600):
        n_cols, n_fields = rnd.randint(1, 9), rnd.randint(1, 7)
        if i % 2:
            scores, features, positions = random_problem(rnd, n_cols, n_fields)
        else:
            scores = [
                [round(rnd.uniform(0, 4), 1) for _ in range(n_fields)]
                for _ in range(n_cols)
            ]
            features = [[1 if s else 0 for s in row] for row in scores]
            positions = rnd.sample(range(20), n_cols)
        order = sorted(range(n_cols), key=lambda c: positions[c])
        weights = _weights(
            [scores[c] for c in order], [features[c] for c in order], 1.0
        )
        rows = [r for r in range(n_cols) if any(weights[r])]
        cols = [f for f in range(n_fields) if any(w[f] for w in weights)]
        if not rows:
            pass
        elif mapping._best_rows(weights, rows, cols) is not None:
            paths["best rows"] += 1
        elif mapping._assignments(len(rows), len(cols)) <= mapping.ENUMERATE_UP_TO:
            paths["enumerated"] += 1
        else:
            paths["solver"] += 1
        args = (scores, features, positions, 1.0)
        assert assign(*args) == _assign_with_solver_only(monkeypatch, *args), args
    assert min(paths.values()) > 50, paths


def test_small_or_clean_tables_are_mapped_without_importing_scipy():
    # The point of both paths: a cold sandbox worker skips ~0.35 s of scipy/numpy
    # imports unless a larger problem has contested columns.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from runner.mapping import assign\n"
        "assert assign([[3.0, 1.0], [0.5, 2.0]], [[1, 1], [1, 1]], [0, 1], 1.0)"
        " == [0, 1]\n"
        "assert assign([[3.0, 3.0], [3.0, 0.0]], [[1, 1], [1, 0]], [0, 1], 1.0)"
        " == [1, 0]\n"
        "assert 'scipy' not in sys.modules and 'numpy' not in sys.modules\n"
        "tied = [[2.0] * 6 for _ in range(6)]\n"
        "assert assign(tied, [[1] * 6] * 6, list(range(6)), 1.0) == list(range(6))\n"
        "assert 'scipy.optimize' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
