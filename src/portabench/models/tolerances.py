"""The numbers that decide a model case, shared by every framework's model cases (docs/cases.md, "Whole models").

Errors are relative to scale: ``max|got - ref| / max|ref|`` per tensor.
"""

from __future__ import annotations

#: relative-to-scale tolerance of outputs and loss
FORWARD_TOL = 1e-3
#: relative-to-scale tolerance of gradients
GRAD_TOL = 1e-2
#: relative-to-scale tolerance of the bfloat16 autocast forward (8 mantissa bits, errors add up over layers)
AUTOCAST_TOL = 5e-2
#: a disagreeing device fails when its float64-arbitrated error exceeds this many times the reference's
ARBITER_SLACK = 2.0
#: the float64 arbiter runs only when the reference's float32 step took at most this many seconds
F64_MAX_REFERENCE_S = 2.0
#: a gradient's error is relative to its own scale, but never to less than this share of the step's largest
#: gradient: a gradient that is zero in exact arithmetic (a bias right before batch norm) holds only rounding
#: noise, and that noise relative to itself is meaningless (on the H200: "errors" of 1e6 of scale)
GRAD_SCALE_FLOOR = 1e-3
