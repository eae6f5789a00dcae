"""One object per algorithm turning batches into parameter updates (``update(batch) -> metrics``)."""

from oppshape.learners.base import Learner
from oppshape.learners.coma import COMALearner
from oppshape.learners.communication import CommunicationLearner
from oppshape.learners.exact_shaping import ExactShapingLearner
from oppshape.learners.lola_dice import LOLADiCE
from oppshape.learners.loqa import LOQALearner
from oppshape.learners.pola_dice import POLADiCE
from oppshape.learners.pola_om import POLAOM
from oppshape.learners.mappo import PPOLearner
from oppshape.learners.stackelberg import StackelbergLearner

__all__ = [
    "COMALearner",
    "CommunicationLearner",
    "LOLADiCE",
    "LOQALearner",
    "POLADiCE",
    "POLAOM",
    "PPOLearner",
    "ExactShapingLearner",
    "Learner",
    "StackelbergLearner",
]
