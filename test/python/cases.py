"""The jobs of test/support/twins.ts, written with the Python package.

The Flyte plugin's own test cases (flytekit plugins/flytekit-kf-pytorch/tests), each a function that adds its
charts to an app, and bad inputs that must fail with the message they fail with in TypeScript.
"""

from cdk8s import ApiObjectMetadata, App, Chart, Duration, Size
from cdk8s_plus_28 import Cpu, EnvValue

from cdk8s_kfpytorch import (
    CleanPodPolicy,
    Elastic,
    Entrypoint,
    Master,
    Nnodes,
    NprocPerNode,
    PyTorchElasticJob,
    PyTorchJob,
    Resources,
    RestartPolicy,
    RunPolicy,
    StartMethod,
    Worker,
)

# The image and environment of the plugin tests' serialization settings.
IMAGE = "test:tag"


def env():
    return {"FOO": EnvValue.from_value("baz")}


def p1(app: App) -> None:
    """test_pytorch_task: PyTorch(num_workers=10), requests=Resources(cpu="1")."""
    PyTorchJob(
        Chart(app, "p1"),
        "job",
        metadata=ApiObjectMetadata(name="pytorch-task"),
        image=IMAGE,
        env=env(),
        requests=Resources(cpu=Cpu.units(1)),
        worker=Worker(replicas=10),
    )


def p2(app: App) -> None:
    """test_pytorch_task_with_default_config: PyTorch(worker=Worker(replicas=1))."""
    PyTorchJob(
        Chart(app, "p2"),
        "job",
        metadata=ApiObjectMetadata(name="pytorch-task-with-default-config"),
        image=IMAGE,
        env=env(),
        requests=Resources(cpu=Cpu.units(1)),
        worker=Worker(replicas=1),
    )


def p3(app: App) -> None:
    """test_pytorch_task_with_custom_config: per-replica image, resources and restart policies, and a run policy."""
    PyTorchJob(
        Chart(app, "p3"),
        "job",
        metadata=ApiObjectMetadata(name="pytorch-task-with-custom-config"),
        image=IMAGE,
        env=env(),
        requests=Resources(cpu=Cpu.units(1)),
        worker=Worker(
            replicas=5,
            requests=Resources(cpu=Cpu.units(2), memory=Size.gibibytes(2)),
            limits=Resources(cpu=Cpu.units(4), memory=Size.gibibytes(2)),
            image="worker:latest",
            restart_policy=RestartPolicy.ON_FAILURE,
        ),
        master=Master(restart_policy=RestartPolicy.ALWAYS),
        run_policy=RunPolicy(
            clean_pod_policy=CleanPodPolicy.ALL,
            backoff_limit=5,
            active_deadline=Duration.seconds(100),
            ttl_after_finished=Duration.seconds(100),
        ),
    )


def e3(app: App) -> None:
    """test_rdzv_configs[spawn,fork]: rdzv_configs={"join_timeout": 10} replaces the default, nproc_per_node=2."""
    chart = Chart(app, "e3")
    # A jsii enum's Python value is the member's name, not the string that the manifest gets.
    for name, start_method in (("spawn", StartMethod.SPAWN), ("fork", StartMethod.FORK)):
        PyTorchElasticJob(
            chart,
            name,
            metadata=ApiObjectMetadata(name=f"rdzv-configs-{name}"),
            image=IMAGE,
            entrypoint=Entrypoint.script("train.py"),
            elastic=Elastic(
                nproc_per_node=NprocPerNode.count(2),
                start_method=start_method,
                rdzv_configs={"join_timeout": "10"},
            ),
        )


def e7(app: App) -> None:
    """test_default_timeouts: Elastic(nnodes=1) has the 900 s rendezvous timeouts."""
    PyTorchElasticJob(
        Chart(app, "e7"),
        "job",
        metadata=ApiObjectMetadata(name="default-timeouts"),
        image=IMAGE,
        entrypoint=Entrypoint.script("train.py"),
        elastic=Elastic(nnodes=Nnodes.fixed(1)),
    )


def e8(app: App) -> None:
    """test_run_policy: Elastic(nnodes=2, nproc_per_node=2, run_policy=RunPolicy(ALL, ttl 600, deadline 36000))."""
    PyTorchElasticJob(
        Chart(app, "e8"),
        "job",
        metadata=ApiObjectMetadata(name="run-policy"),
        image=IMAGE,
        entrypoint=Entrypoint.script("train.py"),
        elastic=Elastic(
            nnodes=Nnodes.fixed(2),
            nproc_per_node=NprocPerNode.count(2),
            run_policy=RunPolicy(
                clean_pod_policy=CleanPodPolicy.ALL,
                ttl_after_finished=Duration.seconds(600),
                active_deadline=Duration.seconds(36000),
            ),
        ),
    )


def e9(app: App) -> None:
    """test_omp_num_threads: with 2 processes OMP_NUM_THREADS is 1 unless the job sets it (42 stays 42)."""
    chart = Chart(app, "e9")
    PyTorchElasticJob(
        chart,
        "unset",
        image=IMAGE,
        entrypoint=Entrypoint.script("train.py"),
        metadata=ApiObjectMetadata(name="omp-num-threads-unset"),
        elastic=Elastic(nproc_per_node=NprocPerNode.count(2)),
    )
    PyTorchElasticJob(
        chart,
        "set",
        image=IMAGE,
        entrypoint=Entrypoint.script("train.py"),
        metadata=ApiObjectMetadata(name="omp-num-threads-set"),
        env={"OMP_NUM_THREADS": EnvValue.from_value("42")},
        elastic=Elastic(nproc_per_node=NprocPerNode.count(2)),
    )


CASES = {"p1": p1, "p2": p2, "p3": p3, "e3": e3, "e7": e7, "e8": e8, "e9": e9}


def nnodes_format() -> None:
    """Refused when the value is made: torchrun's --nnodes takes MIN:MAX."""
    Nnodes.parse("1:2:3")


def zero_workers() -> None:
    """Refused at synth time, by the rules that check the object as written (synth_yaml writes nothing)."""
    app = App()
    PyTorchJob(Chart(app, "bad"), "job", image=IMAGE, worker=Worker(replicas=0))
    app.synth_yaml()


ERRORS = {"nnodes-format": nnodes_format, "zero-workers": zero_workers}
