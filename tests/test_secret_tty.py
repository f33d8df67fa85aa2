"""`secret set` on a real terminal (a pty): the key is typed twice at a prompt that does not
echo it, and replacing a stored key asks first. The key never appears on the terminal."""

from __future__ import annotations

from pathlib import Path

from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import endpoint_session
from tests.support.terminal import run_on_pty

KEY = "tty-Key-5mWq81"
PARAMETER = "/stock-alert/t1/api-key"


def _on_terminal(args: list[str], env: dict[str, str], cwd: Path,
                 script: list[tuple[bytes, str]], timeout: float = 60) -> tuple[int, str]:
    """Run the command on a pty; when the output ends with the next prompt of `script`, type
    its answer."""
    steps = list(script)

    def respond(output: bytes) -> str | None:
        # click writes a prompt's text, then asks getpass for the trailing " " once echo is
        # off: type only after that space, as a person would after seeing the prompt
        if steps and output.endswith(steps[0][0] + b" "):
            return steps.pop(0)[1]
        return None

    return run_on_pty(args, env, cwd, respond, timeout)



def test_the_key_is_typed_twice_and_never_echoed(
        aws_env: dict[str, str], tmp_path: Path, moto_server: str) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    code, out = _on_terminal(["secret", "set"], aws_env, tmp_path,
                             [(b"API key (hidden):", KEY),
                              (b"Repeat for confirmation:", KEY)])
    assert code == 0, out
    assert f"Stored the API key in SSM parameter {PARAMETER}" in out
    assert KEY not in out  # no echo at the prompt, and not in the result line
    ssm = endpoint_session(moto_server).client("ssm")
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == KEY


def test_replacing_asks_first_and_no_keeps_the_stored_key(
        aws_env: dict[str, str], tmp_path: Path, moto_server: str) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    ssm = endpoint_session(moto_server).client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value="first", Type="SecureString", Tags=[
        {"Key": "managed-by", "Value": "stock-alert"},
        {"Key": "stock-alert:stack", "Value": "t1"}])
    code, out = _on_terminal(["secret", "set"], aws_env, tmp_path,
                             [(b"already holds a key. Replace it? [y/N]:", "n")])
    assert code == 0, out
    assert "Cancelled; the stored key was not changed." in out and "API key (hidden)" not in out
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == \
        "first"
    code, out = _on_terminal(["secret", "set"], aws_env, tmp_path,
                             [(b"Replace it? [y/N]:", "y"), (b"API key (hidden):", KEY),
                              (b"Repeat for confirmation:", KEY)])
    assert code == 0, out
    assert "(overwritten, version 2)" in out and KEY not in out
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == KEY
