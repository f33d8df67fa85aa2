"""One module per AWS resource kind, each a `Kind` (see contract.py), and the registry.

Adding a kind: write kinds/<kind>.py with a Wanted and an Observed dataclass and a
`Kind` subclass (log_group.py is the smallest worked example), then add one line to KINDS.
"""

from __future__ import annotations

from provision.kinds.alarm import Alarm
from provision.kinds.contract import AnyKind
from provision.kinds.function import Function
from provision.kinds.log_group import LogGroup
from provision.kinds.market_schedule import MarketSchedule
from provision.kinds.notifier import Notifier
from provision.kinds.on_failure import OnFailure
from provision.kinds.role import Role
from provision.kinds.schedule import Schedule
from provision.kinds.scheduler_role import SchedulerRole
from provision.kinds.security_group import SecurityGroup
from provision.kinds.topic import Topic

# Creation order (each kind after those it needs, Kind.after); deletion runs the same edges
# backwards. The alarm watches the function and notifies the topic; the notifier words failed
# runs for the topic, and the on-failure destination sends them from the function to it; the
# schedule, which starts runs, comes last, so no run starts before its failure can be told:
# down removes it first. The schedule is the rule (a cron/rate string) or the market-time
# schedule with its role: the config uses one, 'up' deletes the other (after making the one).
KINDS: tuple[AnyKind, ...] = (Role(), SchedulerRole(), LogGroup(), Topic(), SecurityGroup(),
                               Function(), Alarm(), Notifier(), OnFailure(), Schedule(),
                               MarketSchedule())
BY_NAME: dict[str, AnyKind] = {kind.name: kind for kind in KINDS}
