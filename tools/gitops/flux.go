package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// The evaluation below is Flux's, copied in behaviour from github.com/fluxcd/pkg/runtime/cel
// v0.123.0 (expression.go, status_evaluator.go) and its caller (PollerWithCustomHealthChecks,
// status_poller.go): that module needs Go 1.27 and pulls in controller-runtime and client-go,
// so gitops-check uses the same cel-go version (v0.31.0) with the same environment instead.

// CustomHealthCheck is one entry of a Kustomization's (or HelmRelease's) spec.healthCheckExprs
// (github.com/fluxcd/pkg/apis/kustomize.CustomHealthCheck).
type CustomHealthCheck struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Current    string `json:"current"`
	InProgress string `json:"inProgress,omitempty"`
	Failed     string `json:"failed,omitempty"`
}

// LoadHealthCheckExprs reads spec.healthCheckExprs from a Flux Kustomization (or HelmRelease)
// manifest, refusing fields Flux does not know.
func LoadHealthCheckExprs(manifest []byte) ([]CustomHealthCheck, error) {
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			HealthCheckExprs json.RawMessage `json:"healthCheckExprs"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(manifest, &doc); err != nil {
		return nil, err
	}
	group := schema.FromAPIVersionAndKind(doc.APIVersion, doc.Kind).GroupKind()
	if group != (schema.GroupKind{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization"}) &&
		group != (schema.GroupKind{Group: "helm.toolkit.fluxcd.io", Kind: "HelmRelease"}) {
		return nil, fmt.Errorf("%s %s is not a Flux Kustomization or HelmRelease", doc.APIVersion, doc.Kind)
	}
	if len(doc.Spec.HealthCheckExprs) == 0 {
		return nil, fmt.Errorf("the %s has no spec.healthCheckExprs", doc.Kind)
	}
	var checks []CustomHealthCheck
	if err := yaml.UnmarshalStrict(doc.Spec.HealthCheckExprs, &checks); err != nil {
		return nil, fmt.Errorf("spec.healthCheckExprs: %w", err)
	}
	for i, check := range checks {
		// Required by Flux's CRD schema.
		if check.APIVersion == "" || check.Kind == "" || check.Current == "" {
			return nil, fmt.Errorf("spec.healthCheckExprs[%d]: apiVersion, kind and current are required", i)
		}
	}
	return checks, nil
}

// celExpression is fluxcd/pkg/runtime/cel.NewExpression without options (how the status
// evaluator builds it): parsed, not compiled, so the object's top-level fields are
// undeclared variables bound at evaluation.
func celExpression(expr string) (cel.Program, error) {
	env, err := cel.NewEnv(
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Sets(),
		ext.Encoders(),
	)
	if err != nil {
		return nil, fmt.Errorf("failed to create CEL environment: %w", err)
	}
	parsed, issues := env.Parse(expr)
	if issues != nil {
		return nil, fmt.Errorf("failed to parse the CEL expression '%s': %s", expr, issues.String())
	}
	return env.Program(parsed, cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(100))
}

// FluxHealth computes what Flux's health check makes of the object given the
// healthCheckExprs: the first entry for the object's group and kind (any version) decides,
// evaluated as fluxcd/pkg/runtime/cel.StatusEvaluator does; without one, kstatus decides. An
// expression that fails on the object (a field that is not there) gives Unknown with the
// error, which Flux keeps polling until its timeout.
func FluxHealth(checks []CustomHealthCheck, object map[string]interface{}) (Result, error) {
	u, err := toUnstructured(object)
	if err != nil {
		return Result{}, err
	}
	gk := u.GroupVersionKind().GroupKind()
	var check *CustomHealthCheck
	for i := range checks {
		if schema.FromAPIVersionAndKind(checks[i].APIVersion, checks[i].Kind).GroupKind() == gk {
			check = &checks[i]
			break
		}
	}
	if check == nil {
		return Kstatus(object)
	}
	// Every expression is parsed first: a Kustomization with one that does not parse is refused.
	type step struct {
		name, expr, status string
		program            cel.Program
	}
	steps := []*step{
		{name: "inProgress", expr: check.InProgress, status: "InProgress"},
		{name: "failed", expr: check.Failed, status: "Failed"},
		{name: "current", expr: check.Current, status: "Current"},
	}
	for _, s := range steps {
		if s.expr == "" {
			continue
		}
		if s.program, err = celExpression(s.expr); err != nil {
			return Result{}, fmt.Errorf("failed to parse the expression %s%s: %w",
				strings.ToUpper(s.name[:1]), s.name[1:], err)
		}
	}
	content := u.UnstructuredContent()
	observed, ok, err := unstructured.NestedInt64(content, "status", "observedGeneration")
	if err == nil && ok {
		generation, ok, err := unstructured.NestedInt64(content, "metadata", "generation")
		if err == nil && ok && observed != generation {
			return Result{Status: "InProgress"}, nil
		}
	}
	for _, s := range steps {
		if s.program == nil {
			continue
		}
		value, _, err := s.program.ContextEval(context.Background(), content)
		if err != nil {
			return Result{Status: "Unknown", Message: fmt.Sprintf("failed to evaluate the CEL expression '%s': %v", s.expr, err)}, nil
		}
		result, ok := value.(types.Bool)
		if !ok {
			return Result{Status: "Unknown", Message: fmt.Sprintf("failed to evaluate CEL expression as boolean: '%s'", s.expr)}, nil
		}
		if result {
			return Result{Status: s.status}, nil
		}
	}
	return Result{Status: "InProgress"}, nil
}
