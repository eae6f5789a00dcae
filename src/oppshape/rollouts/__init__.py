"""Data collection of each family: rollout loops and buffers that feed the learners (floor 4: above objectives, below learners)."""
