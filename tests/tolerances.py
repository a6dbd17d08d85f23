"""Every tolerance the tests use, in one place."""

# Two float64 evaluations of the same exact formula along different summation orders.
EXACT = dict(rtol=1e-10, atol=1e-12)
# A finite-difference quotient against an exact derivative (Richardson step 1e-6 on O(1) data).
FINITE_DIFFERENCE = dict(rtol=1e-5, atol=1e-6)
# Relative margin to the nearest switching hyperplane that keeps a finite-difference stencil on one piece.
PIECE_MARGIN = 1e-3
