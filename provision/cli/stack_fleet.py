"""What the four stack commands share (StackContext: config, profile, Region, output, debug
and the fleet options), and their run over many stacks: every stack, Region and account the
fleet options name (provision/features/fleet.py does the work; this module checks the options, asks,
and shows the results)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from provision.cli import ask, stack_report
from provision.cli.app import Output, resolve
from provision.errors import InputError


@dataclass(frozen=True)
class Fleet:
    """The fleet options of one command; `wanted` is False when none was given."""

    count: int | None = None
    participants: Path | None = None
    parallel: int = 8
    regions: str | None = None
    roles: tuple[str, ...] = ()
    roles_file: Path | None = None
    adopt: bool = False

    @property
    def wanted(self) -> bool:
        return (self.count is not None or self.participants is not None
                or self.regions is not None or bool(self.roles) or self.roles_file is not None
                or self.adopt)


@dataclass(frozen=True)
class StackContext:
    """The options plan, up, down and status share, built once per command (as Sceptre's
    SceptreContext): where the config is, the credentials, the Region, how to report, and the
    fleet options (none given: one stack)."""

    config: Path | None = None
    profile: str | None = None
    region: str | None = None
    output: Output = Output.human
    debug: bool = False
    fleet: Fleet = Fleet()

    def target(self) -> Any:
        """The config, flags and environment checked; a fleet's Aws shares its clients (one
        rate limiter for all its stacks). No AWS call yet. Human output's tables are then
        imported while the command waits for AWS (render.preload)."""
        found = resolve(self.config, self.profile, self.region, shared_gates=self.fleet.wanted)
        if self.output is Output.human:
            from provision.output.render import preload

            preload()
        return found


def run_fleet(verb: str, context: StackContext, yes: bool = True) -> None:
    """Every stack the fleet options name, in every Region and account, `parallel` at a time:
    progress rows on stderr, then one table (or JSON document); exit 1 if any failed."""
    fleet, region, profile, output = (context.fleet, context.region, context.profile,
                                      context.output)
    from provision.cli.fleet_commands import parse_regions
    from provision.config.participants import check_fleet_size, role_arns, stack_configs
    from provision.core.target import check_function_environment
    from provision.features import fleet as runner
    from provision.output import render
    from provision.output.progress import FleetDisplay

    runner.check_parallel(fleet.parallel)
    if fleet.adopt and fleet.count is None and fleet.participants is None \
            and fleet.regions is None:
        raise InputError("--adopt works only with --count, --participants or --regions: it "
                         "lets a fleet take over stacks of its names that it did not make.",
                         hint="Add the fleet's options, or leave --adopt out.")
    if fleet.regions is not None and region:
        raise InputError("--regions and --region were both given.",
                         hint="Use --regions a,b for several Regions, or --region for one.")
    target = context.target()
    configs = stack_configs(target.config, fleet.count, fleet.participants) or [target.config]
    regions = (parse_regions(fleet.regions, None, profile) if fleet.regions is not None
               else [target.aws.region])
    roles: list[str | None] = [*role_arns(list(fleet.roles), fleet.roles_file)] or [None]
    check_fleet_size(len(configs), len(regions), len(roles))
    jobs = runner.jobs_for(configs, regions, roles, target.config.name)
    for job in jobs[:len(configs) * len(regions)]:  # the accounts add nothing to it
        check_function_environment(job.config, job.place.region)
    if not yes:  # down: always asked; up: asked on a terminal, as a first single-stack up
        confirm = _confirm_fleet_down if verb == "down" else stack_report.confirm_first_fleet_up
        confirm(runner, jobs, target, fleet.parallel, output)
    with FleetDisplay([j.key for j in jobs], f"{verb}: {len(jobs)} stack(s)") as display:
        results = runner.run(verb, jobs, target.aws, target.code, fleet.parallel,
                             lambda job, text: display.update(job.key, text), fleet.adopt)
    if output is Output.json:
        render.emit_json(render.fleet_document(verb, results))
    else:
        render.console().print(render.fleet_table(verb, results))
    if runner.failed(results):
        raise typer.Exit(1)


def _confirm_fleet_down(runner: Any, jobs: list[Any], target: Any, parallel: int,
                        output: Output) -> None:
    """Read what each stack holds, show it on stderr, and ask once for all of them."""
    from provision.output import render
    from provision.output.progress import spinner

    with spinner(f"reading {len(jobs)} stack(s) from AWS"):
        found = runner.run("teardown", jobs, target.aws, target.code, parallel)
    render.console(stderr=True).print(render.fleet_table("down would delete", found))
    doomed = [r for r in found if not r.ok or (r.plan is not None and r.plan.has_writes)]
    if doomed and not ask.confirm(f"Delete {len(doomed)} stack(s): "
                                  f"{', '.join(r.job.config.name for r in doomed[:5])}"
                                  f"{' ...' if len(doomed) > 5 else ''}?"):
        stack_report.cancelled(output)
