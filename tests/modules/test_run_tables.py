"""Per-run tables: lookups, and the TorchRL actor / critic / Q-value wrappers reading them."""

import torch
from tensordict import TensorDict

from oppshape.modules.run_tables import RunTable, tabular_actor, tabular_critic, tabular_qvalue


def _batch():
    return TensorDict({"run": torch.tensor([0, 1, 1]), "observation": torch.tensor([2, 0, 2])}, [3])


def test_lookup_reads_each_runs_own_table():
    table = RunTable(n_runs=2, n_obs=3, n_out=2)
    out = table(torch.tensor([0, 1, 1]), torch.tensor([2, 0, 2]))
    assert torch.equal(out, torch.stack([table.table[0, 2], table.table[1, 0], table.table[1, 2]]))


def test_actor_log_prob_is_the_table_softmax():
    table = RunTable(2, 3, 2, init_scale=1.0)
    batch = tabular_actor(table)(_batch())
    expected = torch.log_softmax(table.table[batch["run"], batch["observation"]], -1)
    assert torch.allclose(batch["action_log_prob"], expected.gather(-1, batch["action"].unsqueeze(-1)).squeeze(-1))


def test_critic_and_qvalue_outputs():
    values = RunTable(2, 3, 1, init_scale=1.0)
    assert torch.equal(tabular_critic(values)(_batch())["state_value"], values.table[[0, 1, 1], [2, 0, 2]])
    q = RunTable(2, 3, 2, init_scale=1.0)
    batch = tabular_qvalue(q)(_batch())
    assert torch.equal(batch["action"], q.table[[0, 1, 1], [2, 0, 2]].argmax(-1))


def test_gradients_stay_in_their_run():
    table = RunTable(2, 3, 2)
    table(torch.tensor([1]), torch.tensor([0])).sum().backward()
    assert table.table.grad[0].abs().sum() == 0 and table.table.grad[1, 0].abs().sum() > 0
