"""Batch settings: each class's directives, submit command, setters and refusals. Pure."""

from __future__ import annotations

import pytest

from smartflow.errors import InvalidArgumentError, SmartflowError, UnsupportedTypeError
from smartflow.settings import (
    BatchSettings,
    BsubBatchSettings,
    CobaltBatchSettings,
    QsubBatchSettings,
    SbatchSettings,
)

BATCH = [SbatchSettings, QsubBatchSettings, BsubBatchSettings, CobaltBatchSettings]


def lines(bs: BatchSettings) -> list[str]:
    return bs.directives("job-1", "/w/job.out", "/w/job.err")


# -- sbatch -------------------------------------------------------------------------------------


def test_sbatch_directives() -> None:
    bs = SbatchSettings(2, "01:30:00", "proj", {"exclusive": None, "mem": "4G", "C": "gpu"})
    bs.set_partition("debug")
    bs.set_cpus_per_task(4)
    bs.set_hostlist(["n1", "n2"])
    assert lines(bs) == [
        "#SBATCH --job-name=job-1",
        "#SBATCH --output=/w/job.out",
        "#SBATCH --error=/w/job.err",
        "#SBATCH --nodes=2",
        "#SBATCH --time=01:30:00",
        "#SBATCH --partition=debug",
        "#SBATCH --account=proj",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --nodelist=n1,n2",
        "#SBATCH --exclusive",
        "#SBATCH --mem=4G",
        "#SBATCH -C gpu",
    ]
    assert bs.submit_argv("/w/job.sh") == ["sbatch", "--parsable", "/w/job.sh"]
    assert bs.batch_cmd == "sbatch" and not bs.submit_stdin


def test_sbatch_minimal_and_queue_is_the_partition() -> None:
    assert lines(SbatchSettings()) == [
        "#SBATCH --job-name=job-1", "#SBATCH --output=/w/job.out", "#SBATCH --error=/w/job.err",
    ]  # fmt: skip
    bs = SbatchSettings(queue="gpu")
    assert bs.queue == "gpu" and "#SBATCH --partition=gpu" in lines(bs)
    bs.set_queue("cpu")
    assert "#SBATCH --partition=cpu" in lines(bs)


@pytest.mark.parametrize(
    ("time", "rendered", "seconds"),
    [("00:10:00", "00:10:00", 600.0), ("2-01:00:00", "2-01:00:00", 176400.0),
     (90, "00:01:30", 90.0), (86400, "1-00:00:00", 86400.0)],
)  # fmt: skip
def test_sbatch_walltime_forms(time, rendered: str, seconds: float) -> None:
    bs = SbatchSettings(time=time)
    assert bs.walltime == seconds and bs.time == rendered
    assert f"#SBATCH --time={rendered}" in lines(bs)


# -- PBS ----------------------------------------------------------------------------------------


def test_qsub_directives() -> None:
    bs = QsubBatchSettings(
        nodes=2, ncpus=8, time="10:00:00", queue="workq", account="A123",
        resources={"place": "scatter"}, batch_args={"W": "depend=afterok:1", "r": "n"},
    )  # fmt: skip
    assert lines(bs) == [
        "#PBS -N job-1",
        "#PBS -o /w/job.out",
        "#PBS -e /w/job.err",
        "#PBS -V",
        "#PBS -l select=2:ncpus=8",
        "#PBS -l walltime=10:00:00",
        "#PBS -q workq",
        "#PBS -A A123",
        "#PBS -l place=scatter",
        "#PBS -W depend=afterok:1",
        "#PBS -r n",
    ]


def test_qsub_puts_output_and_error_on_the_command_line() -> None:
    """The torque wrapper ignores #PBS -o/-e."""
    bs = QsubBatchSettings()
    assert bs.submit_argv("/w/j.sh", output="/w/o", error="/w/e") == [
        "qsub", "-o", "/w/o", "-e", "/w/e", "/w/j.sh",
    ]  # fmt: skip
    assert bs.submit_argv("/w/j.sh") == ["qsub", "/w/j.sh"]


def test_qsub_select_forms() -> None:
    assert not any("select" in line for line in lines(QsubBatchSettings()))
    assert "#PBS -l select=3" in lines(QsubBatchSettings(nodes=3))
    assert "#PBS -l select=1:ncpus=4" in lines(QsubBatchSettings(ncpus=4))
    bs = QsubBatchSettings(ncpus=2)
    bs.set_hostlist(["h1", "h2"])
    assert "#PBS -l select=1:ncpus=2:host=h1+1:ncpus=2:host=h2" in lines(bs)
    bs.set_nodes(3)
    with pytest.raises(InvalidArgumentError):
        lines(bs)  # three nodes, two hosts


def test_qsub_walltime_past_a_day_is_hours() -> None:
    assert "#PBS -l walltime=26:00:00" in lines(QsubBatchSettings(time="1-02:00:00"))


@pytest.mark.parametrize("name", ["select", "nodes", "walltime", "ncpus", "host"])
def test_qsub_resources_owned_by_setters_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        QsubBatchSettings().set_resource(name, "1")
    assert "set_" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("", "1"), ("-l", "1"), ("mem", ""), ("mem", None), ("mem", True), ("mem", "a\nb")],
)
def test_qsub_bad_resources_are_refused(name, value) -> None:
    bs = QsubBatchSettings()
    with pytest.raises(InvalidArgumentError):
        bs.set_resource(name, value)
    assert bs.resources == {}


# -- LSF ----------------------------------------------------------------------------------------


def test_bsub_directives_and_stdin_submission() -> None:
    bs = BsubBatchSettings(nodes=4, time="00:30:30", project="CSC123", smts=4, queue="batch")
    bs.set_hostlist(["h1", "h2"])
    bs.set_tasks(8)
    assert lines(bs) == [
        "#BSUB -J job-1",
        "#BSUB -o /w/job.out",
        "#BSUB -e /w/job.err",
        "#BSUB -W 00:31",  # rounded up to the minute, never shortened
        "#BSUB -P CSC123",
        "#BSUB -nnodes 4",
        "#BSUB -q batch",
        '#BSUB -m "h1 h2"',
        "#BSUB -n 8",
        "#BSUB -alloc_flags smt4",
    ]
    assert bs.submit_stdin is True
    assert bs.submit_argv("/w/j.sh") == ["bsub"]  # the script goes on stdin
    assert bs.project == "CSC123" and bs.account == "CSC123"


def test_bsub_account_is_the_project_and_alloc_flags_merge() -> None:
    bs = BsubBatchSettings(account="P1", batch_args={"alloc_flags": "gpumps"}, smts=2)
    assert "#BSUB -P P1" in lines(bs)
    assert '#BSUB -alloc_flags "gpumps smt2"' in lines(bs)
    kept = BsubBatchSettings(batch_args={"alloc_flags": "smt1"}, smts=4)
    assert "#BSUB -alloc_flags smt1" in lines(kept)


def test_bsub_expert_mode_replaces_nodes_and_tasks() -> None:
    bs = BsubBatchSettings(nodes=1)
    bs.set_expert_mode_req("1*{select[LN]span[hosts=1]}", 21)
    assert bs.nodes is None
    out = lines(bs)
    assert out[-3:] == [
        "#BSUB -csm y", '#BSUB -R "1*{select[LN]span[hosts=1]}"', "#BSUB -n 21",
    ]  # fmt: skip
    assert not any("nnodes" in line for line in out)
    with pytest.raises(InvalidArgumentError):
        bs.set_nodes(2)
    with pytest.raises(InvalidArgumentError):
        bs.set_tasks(2)
    with pytest.raises(InvalidArgumentError):
        BsubBatchSettings().set_expert_mode_req('a"b', 1)


def test_bsub_walltime_in_minutes() -> None:
    assert "#BSUB -W 01:00" in lines(BsubBatchSettings(time="00:59:01"))
    assert "#BSUB -W 26:00" in lines(BsubBatchSettings(time="1-02:00:00"))


# -- Cobalt -------------------------------------------------------------------------------------


def test_cobalt_directives() -> None:
    bs = CobaltBatchSettings(2, 3600, "debug-cache-quad", "datascience", {"mode": "script"})
    bs.set_tasks(128)
    bs.set_hostlist(["3", "4"])
    assert lines(bs) == [
        "#COBALT -o /w/job.out",
        "#COBALT -e /w/job.err",
        "#COBALT --jobname job-1",
        "#COBALT --nodecount 2",
        "#COBALT --time 01:00:00",
        "#COBALT --queue debug-cache-quad",
        "#COBALT --project datascience",
        "#COBALT --attrs location=3,4",
        "#COBALT --proccount 128",
        "#COBALT --mode script",
    ]
    assert bs.submit_argv("/w/j.sh") == ["qsub", "/w/j.sh"]


def test_cobalt_hosts_and_attrs_do_not_mix() -> None:
    bs = CobaltBatchSettings(batch_args={"attrs": "mcdram=cache"})
    assert "#COBALT --attrs mcdram=cache" in lines(bs)
    bs.set_hostlist("5")
    with pytest.raises(InvalidArgumentError):
        lines(bs)


# -- shared rules -------------------------------------------------------------------------------

RESERVED = [
    (SbatchSettings, k)
    for k in ["job-name", "J", "output", "o", "error", "e", "parsable", "nodes", "N", "time",
              "t", "partition", "p", "account", "A", "cpus-per-task", "c", "nodelist", "w"]
] + [(QsubBatchSettings, k) for k in ["N", "o", "e", "l", "q", "A"]] + [
    (BsubBatchSettings, k) for k in ["J", "o", "e", "W", "P", "nnodes", "q", "m", "n", "R"]
] + [
    (CobaltBatchSettings, k)
    for k in ["jobname", "o", "output", "e", "error", "cwd", "nodecount", "time", "queue",
              "project", "proccount"]
]  # fmt: skip


@pytest.mark.parametrize(("cls", "key"), RESERVED)
def test_reserved_batch_args_are_refused(cls: type[BatchSettings], key: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        cls(batch_args={key: "x"})
    assert repr(key) in str(info.value)
    bs = cls()
    bs.batch_args[key] = "x"
    with pytest.raises(InvalidArgumentError):
        lines(bs)


@pytest.mark.parametrize("cls", BATCH)
def test_experiment_factory_keywords_are_accepted(cls: type[BatchSettings]) -> None:
    """Experiment.create_batch_settings passes nodes, time, queue, account, batch_args (""
    meaning unset)."""
    bs = cls(nodes=1, time="", queue="", account="", batch_args=None)
    assert bs.nodes == 1 and bs.walltime is None and bs.queue == "" and bs.account == ""
    bs = cls(nodes=2, time="00:05:00", queue="q1", account="a1", batch_args={"x": "1"})
    assert (bs.nodes, bs.walltime, bs.queue, bs.account) == (2, 300.0, "q1", "a1")
    text = "\n".join(lines(bs))
    assert "q1" in text and "a1" in text and "job-1" in text


@pytest.mark.parametrize("cls", BATCH)
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"nodes": 0}, InvalidArgumentError), ({"nodes": "2"}, UnsupportedTypeError),
     ({"nodes": True}, UnsupportedTypeError), ({"time": "1:2"}, InvalidArgumentError),
     ({"time": 0}, InvalidArgumentError), ({"time": 1.5}, InvalidArgumentError),
     ({"time": "00:00:60"}, InvalidArgumentError), ({"queue": "a\nb"}, InvalidArgumentError),
     ({"account": 3}, UnsupportedTypeError), ({"batch_args": ["x"]}, InvalidArgumentError),
     ({"batch_args": {"--x": "1"}}, InvalidArgumentError),
     ({"batch_args": {"x": "a\nb"}}, InvalidArgumentError)],
)  # fmt: skip
def test_bad_constructor_values_go_through_the_setters(cls, kwargs: dict, error) -> None:
    with pytest.raises(error) as info:
        cls(**kwargs)
    assert isinstance(info.value, SmartflowError)


@pytest.mark.parametrize("cls", BATCH)
@pytest.mark.parametrize("hosts", [[], [""], ["a b"], [3], None])
def test_bad_host_lists_are_refused(cls: type[BatchSettings], hosts) -> None:
    bs = cls()
    with pytest.raises(InvalidArgumentError):
        bs.set_hostlist(hosts)
    assert bs.hosts == []


@pytest.mark.parametrize("cls", BATCH)
@pytest.mark.parametrize(
    ("job_name", "output", "error"),
    [("", "/o", "/e"), ("j\n#SBATCH --x", "/o", "/e"), ("j", None, "/e"), ("j", "/o", 3)],
)
def test_directive_values_cannot_inject_lines(cls, job_name, output, error) -> None:
    with pytest.raises(InvalidArgumentError):
        cls().directives(job_name, output, error)


@pytest.mark.parametrize("cls", BATCH)
def test_preamble_and_copy(cls: type[BatchSettings]) -> None:
    bs = cls(nodes=2)
    bs.add_preamble("module load x\nexport A=1")
    bs.add_preamble(["cd /w"])
    assert bs.preamble == ["module load x", "export A=1", "cd /w"]
    with pytest.raises(InvalidArgumentError):
        bs.add_preamble(["a\nb"])
    with pytest.raises(InvalidArgumentError):
        bs.add_preamble(3)
    clone = bs.copy()
    clone.add_preamble("more")
    clone.set_nodes(5)
    assert type(clone) is cls
    assert bs.preamble == ["module load x", "export A=1", "cd /w"] and bs.nodes == 2


@pytest.mark.parametrize("cls", BATCH)
def test_submit_argv_refuses_a_bad_script_path(cls: type[BatchSettings]) -> None:
    with pytest.raises(InvalidArgumentError):
        cls().submit_argv("")
    with pytest.raises(InvalidArgumentError):
        cls().submit_argv(None)


def test_the_generic_base_builds_but_renders_nothing() -> None:
    bs = BatchSettings(nodes=1, time="00:01:00")
    assert bs.nodes == 1 and bs.walltime == 60.0
    with pytest.raises(InvalidArgumentError) as info:
        bs.directives("j", "/o", "/e")
    assert "SbatchSettings" in str(info.value)
    with pytest.raises(InvalidArgumentError):
        bs.submit_argv("/w/j.sh")


def test_a_directive_value_with_spaces_is_quoted_for_the_schedulers_parser() -> None:
    from smartflow.settings import SbatchSettings

    batch = SbatchSettings(batch_args={"comment": "a smartflow store"})
    assert "#SBATCH --comment='a smartflow store'" in batch.directives("j", "/w/o", "/w/e")
