"""One object per algorithm turning batches into parameter updates (``update(batch) -> metrics``)."""

from oppshape.learners.base import Learner
from oppshape.learners.exact_lookahead import lookahead_opponent
from oppshape.learners.exact_opponent_model import OpponentModelRule
from oppshape.learners.exact_shaping import ExactShapingLearner, ShapingRule
from oppshape.learners.stackelberg import StackelbergLearner, StackelbergSettings

__all__ = [
    "ExactShapingLearner",
    "Learner",
    "OpponentModelRule",
    "ShapingRule",
    "StackelbergLearner",
    "StackelbergSettings",
    "lookahead_opponent",
]
