"""TorchRL ``LossModule``s, the importable core: ``from oppshape.objectives import COMALoss``.

These import only torch, tensordict, torchrl and oppshape's ``games`` / ``modules`` (never envs, Hydra,
wandb or the Trainer), so other TorchRL projects can use them alone.
"""

from oppshape.objectives.advantage_alignment import AdvantageAlignmentLoss
from oppshape.objectives.coma import COMALoss
from oppshape.objectives.dial import DIALLoss
from oppshape.objectives.dice import DiCELoss, magic_box
from oppshape.objectives.dice_lookahead import dice_lookahead
from oppshape.objectives.exact_lookahead import lookahead_opponent
from oppshape.objectives.exact_shaping import ExactLOLALoss, ExactPOLALoss, ExactValueLoss
from oppshape.objectives.loqa import LOQALoss, loaded_dice_returns, n_step_returns, opponent_log_prob
from oppshape.objectives.pola_dice import POLADiCELoss
from oppshape.objectives.pola_om import OpponentModelLoss
from oppshape.objectives.rial import RIALLoss

__all__ = [
    "AdvantageAlignmentLoss",
    "COMALoss",
    "DIALLoss",
    "DiCELoss",
    "ExactLOLALoss",
    "ExactPOLALoss",
    "ExactValueLoss",
    "LOQALoss",
    "OpponentModelLoss",
    "POLADiCELoss",
    "RIALLoss",
    "dice_lookahead",
    "loaded_dice_returns",
    "lookahead_opponent",
    "magic_box",
    "n_step_returns",
    "opponent_log_prob",
]
