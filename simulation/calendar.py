"""The policy calendar: when the TASED regime, the cluster programme and its support run.

Written once here; every mechanism asks the calendar, never the configuration's steps.
"""

from __future__ import annotations

from simulation.config import ClusterFounder, ModelConfig


class PolicyCalendar:
    def __init__(self, cfg: ModelConfig) -> None:
        t, c, s = cfg.tased, cfg.cluster, cfg.shock
        self.tased_enabled = t.enabled
        self.tased_start = t.start_step
        #: the first step after the regime (its duration plus any extension)
        self.tased_end = t.start_step + t.duration_steps + t.extension_steps
        self.cluster_policy = c.founder != ClusterFounder.nobody
        self.cluster_start = c.start_step
        #: the first step without public cluster money
        self.support_end = c.support_end_step
        self.priority_review = c.priority_review_steps
        self.shock_start = s.step
        self.shock_end = s.step + s.duration_steps

    def tased_active(self, t: int) -> bool:
        return self.tased_enabled and self.tased_start <= t < self.tased_end

    def tased_remaining(self, t: int) -> int:
        """Quarters the regime still runs from step t (for investors' benefit schedules)."""
        return self.tased_end - t

    def cluster_policy_active(self, t: int) -> bool:
        """The scenario's cluster policy (a founder other than nobody) has started."""
        return self.cluster_policy and self.cluster_start <= t

    def support_active(self, t: int) -> bool:
        """Public cluster money (grant, match, subsidies) is paid at step t."""
        return self.cluster_policy_active(t) and t < self.support_end

    def priority_review_due(self, t: int) -> bool:
        return self.cluster_policy_active(t) and (t - self.cluster_start) % self.priority_review == 0

    def shocked(self, t: int) -> bool:
        """A scheduled fall in CFE demand is in force at step t."""
        return self.shock_start >= 0 and self.shock_start <= t < self.shock_end
