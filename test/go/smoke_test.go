// A smoke test of the Go bindings: the Flyte case P3 of test/support/twins.ts, written in Go, synthesizes the
// bytes that the TypeScript twin does. test/go/run.sh says where those are (KFPYTORCH_TWINS).
package smoke

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-kfpytorch/cdk8s-kfpytorch-go/cdk8skfpytorch"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"github.com/cdk8s-team/cdk8s-plus-go/cdk8splus28/v2"
)

// test_pytorch_task_with_custom_config: per-replica image, resources and restart policies, and a run policy.
func TestP3SynthesizesAsInTypeScript(t *testing.T) {
	outdir := t.TempDir()
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(outdir)})
	cdk8skfpytorch.NewPyTorchJob(cdk8s.NewChart(app, jsii.String("p3"), nil), jsii.String("job"), &cdk8skfpytorch.PyTorchJobProps{
		Metadata: &cdk8s.ApiObjectMetadata{Name: jsii.String("pytorch-task-with-custom-config")},
		Image:    jsii.String("test:tag"),
		Env:      &map[string]cdk8splus28.EnvValue{"FOO": cdk8splus28.EnvValue_FromValue(jsii.String("baz"))},
		Requests: &cdk8skfpytorch.Resources{Cpu: cdk8splus28.Cpu_Units(jsii.Number(1))},
		Worker: cdk8skfpytorch.NewWorker(&cdk8skfpytorch.WorkerProps{
			Replicas:      jsii.Number(5),
			Requests:      &cdk8skfpytorch.Resources{Cpu: cdk8splus28.Cpu_Units(jsii.Number(2)), Memory: cdk8s.Size_Gibibytes(jsii.Number(2))},
			Limits:        &cdk8skfpytorch.Resources{Cpu: cdk8splus28.Cpu_Units(jsii.Number(4)), Memory: cdk8s.Size_Gibibytes(jsii.Number(2))},
			Image:         jsii.String("worker:latest"),
			RestartPolicy: cdk8skfpytorch.RestartPolicy_ON_FAILURE,
		}),
		Master: cdk8skfpytorch.NewMaster(&cdk8skfpytorch.MasterProps{RestartPolicy: cdk8skfpytorch.RestartPolicy_ALWAYS}),
		RunPolicy: cdk8skfpytorch.NewRunPolicy(&cdk8skfpytorch.RunPolicyProps{
			CleanPodPolicy:   cdk8skfpytorch.CleanPodPolicy_ALL,
			BackoffLimit:     jsii.Number(5),
			ActiveDeadline:   cdk8s.Duration_Seconds(jsii.Number(100)),
			TtlAfterFinished: cdk8s.Duration_Seconds(jsii.Number(100)),
		}),
	})
	app.Synth()

	got, err := os.ReadFile(filepath.Join(outdir, "p3.k8s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(os.Getenv("KFPYTORCH_TWINS"), "p3", "p3.k8s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Go wrote\n%s\nTypeScript wrote\n%s", got, want)
	}
}
