"""Check Theorem 3.1 on networks of your own widths.

    python examples/theorem31_on_my_widths.py 2,20,60 2,40,160 --readout 200 --trials 5

For each network (k, n_1, ..., n_d), draws θ_0 as the theorem does (W_i, b_i ~ N(0, 1/n_i), V ~ N(0, 1/n)),
a Gaussian target y, and measures how far from 0 eq. (2), D_{-x/|x|} f(x) < 0, still fails (Monte Carlo on
shells, exactly over every linear piece in a box for k <= 3), in units of 1 + |y|.
"""

import argparse

from proofs_check import thm31


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("widths", nargs="*", default=["2,20,60", "2,40,160"], help="k,n_1,...,n_d per network")
    parser.add_argument("--readout", type=int, default=None, help="output dimension n (default 2 n_d)")
    parser.add_argument("--trials", type=int, default=3, help="random networks per width")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    widths = [[int(w) for w in text.split(",")] for text in args.widths]
    result = thm31.run(widths=widths, readout=args.readout, m_values=(None,), y_kinds=("gaussian",),
                       trials=args.trials, directions=100, seed=args.seed)
    for row in result.statistics["per_setting"]:
        print(f"widths {row['widths']} → n = {row['n']}: median r_critical/(1+|y|) = {row['median_r_critical']:.3f} "
              f"(largest {row['max_r_critical']:.3f}; exact local minima per network {row.get('mean_local_minima', '—')})")
    print(result.verdict)


if __name__ == "__main__":  # the check runs trials in worker processes, which re-import this script
    main()
