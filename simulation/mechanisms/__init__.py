"""The mechanisms of the model, one module each, with their rules and stage functions.

demand (stage 1), market (4), labour (5), network (6), learning (7), cluster (8), exits (9),
migration (10); entry (3) with diversification (sector choice) and tased (the regime's rules).
The authorities' own decisions (stage 2) are in simulation.agents.authorities.
"""
