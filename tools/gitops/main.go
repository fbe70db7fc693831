// gitops-check reads one Kubernetes object (JSON or YAML) on stdin and prints what a GitOps
// tool makes of it, as one JSON line {"status": ..., "message": ...}:
//
//	gitops-check kstatus              kstatus (Flux, kubectl wait, cli-utils): Current, InProgress, Failed, ...
//	gitops-check argocd <health.lua>  Argo CD's custom health check in gopher-lua: Healthy, Progressing, Degraded, Suspended, ...
//	gitops-check flux <kustomization.yaml>  Flux's health check with the manifest's spec.healthCheckExprs (CEL, as
//	                                  Flux evaluates them; kstatus for kinds they do not name): Current, InProgress, Failed, Unknown
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// Result is what both checks print.
type Result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// toUnstructured goes through JSON into Unstructured, so numbers are int64 as the API
// machinery (and so Flux) has them.
func toUnstructured(object map[string]interface{}) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(object)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return u, nil
}

// Kstatus computes the object's kstatus status with the library Flux uses.
func Kstatus(object map[string]interface{}) (Result, error) {
	u, err := toUnstructured(object)
	if err != nil {
		return Result{}, err
	}
	res, err := status.Compute(u)
	if err != nil {
		return Result{}, err
	}
	return Result{Status: res.Status.String(), Message: res.Message}, nil
}

func decode(input []byte) (map[string]interface{}, error) {
	object := map[string]interface{}{}
	if err := yaml.Unmarshal(input, &object); err != nil {
		return nil, fmt.Errorf("the object on stdin is neither JSON nor YAML: %w", err)
	}
	if len(object) == 0 {
		return nil, fmt.Errorf("no object on stdin")
	}
	return object, nil
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	usage := fmt.Errorf("usage: gitops-check kstatus | gitops-check argocd <health.lua> | gitops-check flux <kustomization.yaml>  (object on stdin)")
	if len(args) < 1 {
		return usage
	}
	input, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	object, err := decode(input)
	if err != nil {
		return err
	}
	var result Result
	switch {
	case args[0] == "kstatus" && len(args) == 1:
		result, err = Kstatus(object)
	case args[0] == "argocd" && len(args) == 2:
		script, readErr := os.ReadFile(args[1])
		if readErr != nil {
			return readErr
		}
		result, err = ArgoHealth(string(script), object)
	case args[0] == "flux" && len(args) == 2:
		manifest, readErr := os.ReadFile(args[1])
		if readErr != nil {
			return readErr
		}
		checks, loadErr := LoadHealthCheckExprs(manifest)
		if loadErr != nil {
			return fmt.Errorf("%s: %w", args[1], loadErr)
		}
		result, err = FluxHealth(checks, object)
	default:
		return usage
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(result)
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gitops-check:", err)
		os.Exit(1)
	}
}
