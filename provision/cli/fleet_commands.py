"""export, and the Region list the fleet options share: commands that work on a stack without
deploying it. sweep lives in sweep_commands.py."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from provision.cli.app import (
    ConfigOpt,
    DebugOpt,
    ProfileOpt,
    RegionOpt,
    app,
    resolve,
    run,
)
from provision.errors import InputError


def parse_regions(regions: str | None, region: str | None, profile: str | None) -> list[str]:
    """--regions a,b, else --region, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's."""
    from provision.config.regions import check_region

    if regions and region:
        raise InputError("--regions and --region were both given.",
                         hint="Use --regions a,b for several Regions, or --region for one.")
    names = [r.strip() for r in (regions or region or "").split(",") if r.strip()]
    if regions is not None and not names:
        raise InputError(f"--regions {regions!r} names no Region.",
                         hint="Name Regions like --regions us-east-1,eu-west-1, or leave "
                         "--regions out to use AWS_REGION.")
    if not names:
        env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        names = [env] if env else [_profile_region(profile)]
    try:
        return list(dict.fromkeys(check_region(n) for n in names))
    except ValueError as exc:
        raise InputError(f"--regions: {exc}.", hint="Name Regions like us-east-1,eu-west-1.",
                         ) from None


def _profile_region(profile: str | None) -> str:
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        found = botocore.session.Session(profile=profile).get_config_variable("region")
    except ProfileNotFound:
        raise InputError(f"AWS profile {profile or os.environ.get('AWS_PROFILE')!r} is not in "
                         "your AWS config files.", hint="Check --profile / AWS_PROFILE.") from None
    if not found:
        raise InputError("No AWS region given.", hint="Pass --regions a,b or --region, or set "
                         "AWS_REGION.")
    return str(found)


@app.command()
def export(
    fmt: Annotated[str, typer.Option(
        "--format", help="Template format: cloudformation (YAML).")] = "cloudformation",
    package_bucket: Annotated[str | None, typer.Option(
        "--package-bucket", help="Upload the function's zip to this S3 bucket and make it the "
        "template's CodeBucket/CodeKey defaults.", show_default=False)] = None,
    template_format: Annotated[str, typer.Option(
        "--template-format", help="yaml (default, readable, comments) or json.")] = "yaml",
    config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print this stack as a CloudFormation template built from the same wanted values 'up'
    uses (role and inline policies, log group, encrypted topic and subscriptions, function,
    schedule and invoke permission, tags). Reads no AWS unless --package-bucket is given."""
    def body() -> None:
        from provision.features.export import cloudformation

        if fmt != "cloudformation":
            raise InputError(f"--format {fmt!r} is not supported.",
                             hint="Use --format cloudformation.")
        if template_format not in ("yaml", "json"):
            raise InputError(f"--template-format {template_format!r} is not supported.",
                             hint="Use --template-format yaml or json.")
        location, sha = None, None
        if package_bucket:
            target = resolve(config, profile, region)
            location, sha = cloudformation.upload_code(target.aws, package_bucket,
                                                       target.config)
            loaded = target.config
        else:  # no AWS call, so no Region needed
            from provision.config.model import config_path, load_config

            loaded = load_config(config_path(str(config) if config else None))
        template = cloudformation.template(loaded, location, sha)
        typer.echo(cloudformation.dump(template, template_format), nl=False)
    run(debug, body)
