"""The league: any trained agent against any other, fixed strategies and a best response (issue #19).

``games`` (the IPD and Coin Game at tensor level, observation adapters), ``policy`` (the one frozen-policy
interface), ``strategies`` (fixed strategies), ``network_policies`` and ``loaders`` (trained agents from
run directories), ``entrants`` (names to policies, checked before play), ``tournament`` (batched round
robin), ``exact_best_response`` and ``learned_best_response`` (exploitability), ``outputs`` (league.json,
league.md, heatmap).
"""
