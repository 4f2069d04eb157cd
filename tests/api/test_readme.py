"""The README's examples run as written, in order.

Fast: every ```python block in one namespace, every inline forecast body, and every file a shell
example names is shipped. Slow (``-m slow``, about 2 minutes): every command of every ```bash
block, from a reader's folder, against a server started as `make run` starts it; the SMTP relay,
the webhook receiver and the official sources (IMF, ECB, Comtrade, DBnomics, answering from the
recorded responses of ``tests/data/recorded``) are local stand-ins, so no example is set aside.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.servers import start_server
from tests.data._recorded import SourcesStandIn, recorded_sources_server
from tests.reports.delivery_servers import SMTP_PASSWORD, Mailbox, Receiver, http_receiver, smtp_server

README = Path(__file__).resolve().parents[2] / "README.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
# A curl that posts a JSON body: the path after the host, then the body in single quotes.
# A command may continue over lines ending in a backslash.
CURL_BODY = re.compile(r"curl (?:[^\n]|\\\n)*?localhost:8000(/v1/[\w/]+)(?:[^\n]|\\\n)*?-d '(\{.*?\})'", re.DOTALL)


def test_readme_python_examples_run() -> None:
    blocks = PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 2 and any("forecast_outlook" in b for b in blocks)
    namespace: dict[str, object] = {}
    # The blocks run in order in one namespace, as a reader would paste them into a notebook.
    with contextlib.redirect_stdout(io.StringIO()) as out:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    printed = out.getvalue()
    assert "observed" in printed and "periods_observed" in printed
    full_year = namespace["fy"]
    assert str(full_year.index[0]) == "2021" and int(full_year["periods_observed"].iloc[0]) == 6
    assert str(namespace["vs_2019"].attrs["base"]) == "2019"


def inline_forecast_bodies() -> list[dict[str, object]]:
    found = CURL_BODY.findall(README.read_text(encoding="utf-8"))
    return [json.loads(body) for path, body in found if path == "/v1/forecasts" and '"data"' in body]


def test_readme_has_growth_and_full_year_rest_examples() -> None:
    bodies = inline_forecast_bodies()
    assert any("growth" in b and "full_year" in b for b in bodies)
    assert any(b.get("frequency") == "annual" and "growth" in b for b in bodies)


@pytest.mark.parametrize("body", inline_forecast_bodies(), ids=lambda b: f"{b['frequency']}-{sorted(b)}")
def test_readme_rest_example_bodies_are_accepted(client, body) -> None:
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert len(out["forecast"]) == body["horizon"]
    if "growth" in body:
        assert out["growth"]["base"] == str(body["growth"]["base"]) and out["growth"]["vs_base"]
    if "full_year" in body:
        assert out["full_year"]["periods_observed"] == 6


def test_readme_structure_examples_are_coherent() -> None:
    namespace: dict[str, object] = {}
    for block in PYTHON_BLOCK.findall(README.read_text(encoding="utf-8")):
        exec(compile(block, str(README), "exec"), namespace)
    coherent = namespace["coherent"]
    wide = coherent.pivot(index="ds", columns="unique_id", values="mean")
    parts = wide["ru_cn_exports"] + wide["ru_cn_imports"]
    assert ((wide["ru_cn_total"] - parts).abs() <= 1e-9 * wide["ru_cn_total"].abs()).all()
    shares = namespace["share_fc"]
    assert (shares.groupby("ds")["mean"].sum() - 1.0).abs().max() < 1e-9
    assert len(namespace["fc_events"]) == 6


# ---------------------------------------------------------------------------------------------
# Every shell example, as written and in order, against a server started as `make run` starts it.
# ---------------------------------------------------------------------------------------------

BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
# `make run` is what the harness does itself (load-samples --if-empty, then serve); `make test`
# would run this suite inside itself.
SET_UP_COMMANDS = ("make run", "make test")


def split_commands(block: str) -> list[str]:
    """The commands of a bash block: continuation lines and multi-line quoted bodies joined."""
    commands: list[str] = []
    current = ""
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line + "\n"
        open_quote = current.count("'") % 2 == 1
        if not open_quote and not line.rstrip().endswith("\\"):
            commands.append(current.rstrip())
            current = ""
    assert not current, f"unterminated command in README: {current!r}"
    return commands


def readme_shell_commands() -> list[str]:
    """Every command of every ```bash block of the README, in order."""
    text = README.read_text(encoding="utf-8")
    return [cmd for block in BASH_BLOCK.findall(text) for cmd in split_commands(block)]


def is_set_aside(command: str) -> bool:
    return command.startswith(SET_UP_COMMANDS)


def run_shell_example(
    command: str, *, cwd: Path, env: dict[str, str], env_file: Path
) -> subprocess.CompletedProcess[str]:
    """Run one README command in bash, as a reader would paste it.

    ``tradecast`` (and ``.venv/bin/tradecast``) is this checkout's CLI, ``curl`` fails on an
    HTTP error status, and the variables the command exports are kept for the next ones.
    """
    port = env["README_TEST_PORT"]
    for host in ("http://localhost:8000", "http://127.0.0.1:8000", "localhost:8000", "127.0.0.1:8000"):
        command = command.replace(host, host.replace("8000", port))
    command = command.replace(".venv/bin/tradecast", "tradecast")
    for outside, stand_in in json.loads(env["README_TEST_STAND_INS"]).items():
        command = command.replace(outside, stand_in)
    script = (
        f'tradecast() {{ "{sys.executable}" -c "from api.cli import main; main()" "$@"; }}\n'
        'curl() { command curl --fail-with-body --show-error "$@"; }\n'
        f"{command}\n"
        f'rc=$?; env -0 > "{env_file}"; exit $rc\n'
    )
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def read_env(env_file: Path) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
    return dict(pairs)


@dataclass
class ServedSamples:
    """The reader's folder and environment, and what the local stand-ins received."""

    folder: Path
    env: dict[str, str]
    mailbox: Mailbox
    receiver: Receiver
    sources: SourcesStandIn


@pytest.fixture(scope="module")
def served_samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSamples]:
    """A server as `make run` starts it: `tradecast load-samples --if-empty`, then `tradecast serve`.

    The reader's working directory is a fresh folder holding the repository's ``data/samples``
    (so the commands' relative paths resolve as in a clone) and nothing else; outside services
    are local stand-ins: the SMTP relay and the webhook receiver named in ``README_TEST_STAND_INS``,
    the official sources through ``TRADECAST_<SOURCE>_URL`` (the service and the CLI read them).
    """
    root = README.parent
    folder = tmp_path_factory.mktemp("readme")
    (folder / "data").mkdir()
    (folder / "data" / "samples").symlink_to(root / "data" / "samples")
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TRADECAST_DATABASE_URL": f"sqlite:///{folder / 'server.db'}",
        "TRADECAST_REPORT_DIR": str(folder / "reports"),
        "TRADECAST_LOG_LEVEL": "WARNING",
    }
    env.pop("TRADECAST_API_KEYS", None)
    loaded = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "load-samples", "--if-empty"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    with smtp_server(require_login=True) as mailbox, http_receiver() as receiver, recorded_sources_server() as sources:
        env.update(sources.environment())
        env["TRADECAST_SMTP_SECURITY"] = "none"  # the local stand-in speaks plain SMTP
        env["TRADECAST_WEBHOOK_ALLOW_HOSTS"] = "127.0.0.1"
        env["README_TEST_STAND_INS"] = json.dumps(
            {
                "smtp.example.org": "127.0.0.1",
                "TRADECAST_SMTP_PORT=587": f"TRADECAST_SMTP_PORT={mailbox.port}",
                "TRADECAST_SMTP_PASSWORD='...'": f"TRADECAST_SMTP_PASSWORD='{SMTP_PASSWORD}'",
                "https://hooks.example.org/tradecast": receiver.url.split("?")[0],
            }
        )
        base, proc = start_server(folder, env, timeout=120)
        env["README_TEST_PORT"] = base.rsplit(":", 1)[1]
        try:
            yield ServedSamples(folder, env, mailbox, receiver, sources)
        finally:
            proc.kill()
            proc.communicate()


def failing_examples(folder: Path, env: dict[str, str], outputs: list[tuple[str, str]]) -> list[str]:
    """Run every shell example in order; describe each that fails (exit status or traceback).

    ``outputs`` receives each command with its standard output.
    """
    failures = []
    env_file = folder / "env.out"
    for command in readme_shell_commands():
        if is_set_aside(command):
            continue
        done = run_shell_example(command, cwd=folder, env=env, env_file=env_file)
        if env_file.exists():
            env = read_env(env_file)
        outputs.append((command, done.stdout))
        if done.returncode != 0 or "Traceback" in done.stderr:
            shown = f"{done.stderr[-400:]}{done.stdout[-300:]}"
            failures.append(f"{command.splitlines()[0][:100]}\n  -> rc={done.returncode}: {shown}")
    return failures


@pytest.mark.slow
def test_readme_shell_examples_run_against_served_samples(served_samples: ServedSamples) -> None:
    commands = [c for c in readme_shell_commands() if not is_set_aside(c)]
    # 39 runnable commands at the time of writing: a parser that drops some would pass silently.
    assert len(commands) >= 39
    outputs: list[tuple[str, str]] = []
    failures = failing_examples(served_samples.folder, served_samples.env, outputs)
    assert not failures, f"{len(failures)} of {len(commands)} README shell examples fail:\n" + "\n".join(failures)
    # The examples do what the README says they do, not only exit 0.

    def said(marker: str) -> str:
        (out,) = [stdout for command, stdout in outputs if marker in command]
        return out

    as_of = json.loads(said('"as_of": "2024-06-30T00:00:00Z"'))
    assert as_of["series_id"] == "cn_ru_total" and as_of["vintage"]["number"] == 1
    diff = json.loads(said("vintages/diff?from=1&to=2"))
    assert [(row["ds"], row["change"]) for row in diff["data"]] == [("2019-05", "added"), ("2019-06", "added")]
    assert "2 period(s) differ" in said("tradecast series diff rus_chn_import 1 2")
    check_source_examples(outputs, said, served_samples.sources)
    # The delivery example reached the local stand-ins: one e-mail, one signed webhook notice.
    assert [rcpt for _, rcpt in served_samples.mailbox.envelopes] == [["manager@example.org"]]
    assert served_samples.mailbox.logins == ["reports"]
    assert len(served_samples.receiver.requests) == 1
    headers, _ = served_samples.receiver.requests[0]
    assert headers["X-Tradecast-Signature"].startswith("sha256=")


def check_source_examples(outputs: list[tuple[str, str]], said: Callable[[str], str], sources: SourcesStandIn) -> None:
    """The official-source examples fetched from the stand-in and did what the README says."""
    fetches = [stdout for command, stdout in outputs if command.startswith("tradecast fetch")]
    assert len(fetches) == 2 and "cn_ru_exports_imf: vintage 1 (new vintage)" in fetches[0]
    assert "vintage 1 (unchanged, no new vintage)" in fetches[1]
    forecast = said("tradecast forecast cn_ru_exports_imf --horizon 3")
    assert all(year in forecast for year in ("2021", "2022", "2023")), forecast  # the recorded years end in 2020
    (stored,) = json.loads(said("localhost:8000/v1/fetch"))["series"]
    assert stored["series_id"] == "cn_ru_exports_imts" and stored["created"] and stored["vintage_number"] == 1
    # The README's source examples name the vintage its fetch example made: by the series' own
    # number, and by the global id the fetch answered.
    (by_id,) = [c for c, _ in outputs if re.search(r"/v1/vintages/\d+/source", c)]
    assert f"/v1/vintages/{stored['vintage_id']}/source" in by_id
    by_number = json.loads(said("/v1/series/cn_ru_exports_imts/vintages/1/source"))
    assert by_number == json.loads(said(by_id))
    assert by_number["query"] == "IMTS/CHN.XG_FOB_USD.RUS.A" and by_number["vintage_id"] == stored["vintage_id"]
    assert "cn-ru-imf" in said("tradecast refresh list")
    # Every fetch reached the stand-in: the two CLI fetches, the REST fetch, the refresh run.
    dbnomics = "/api.db.nomics.world/v22/series/IMF/DOT/A.CN.TXG_FOB_USD.RU"
    assert sources.paths.count(dbnomics) >= 3
    assert sources.paths.count("/api.imf.org/external/sdmx/2.1/data/IMF.STA,IMTS/CHN.XG_FOB_USD.RUS.A") == 1


# A file a runnable example reads: `curl -F file=@PATH` or `tradecast forecast|load PATH`.
EXAMPLE_FILE = re.compile(r"file=@(\S+)|tradecast (?:forecast|load) (\S+\.(?:csv|tsv|xlsx|json))\b")


def test_readme_example_files_are_shipped() -> None:
    named = [
        a or b
        for command in readme_shell_commands()
        if not is_set_aside(command)
        for a, b in EXAMPLE_FILE.findall(command)
    ]
    assert len(named) >= 6
    missing = [path for path in named if not (README.parent / path).is_file()]
    assert not missing, f"README examples name files that are not in the repository: {missing}"
    listed = (README.parent / "data" / "samples" / "SOURCES.md").read_text(encoding="utf-8")
    assert all(Path(path).name in listed for path in named if path.startswith("data/samples/"))
