package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	healthLua       = "../../deploy/argocd/health.lua"
	tenantHealthLua = "../../deploy/argocd/tenant-health.lua"
	fluxExprs       = "../../deploy/flux/health-check-exprs.yaml"
)

// Each fixture folder and the Argo CD script its objects are judged by.
var fixtureSets = []struct{ dir, script string }{
	{"testdata/argocd", healthLua},
	{"testdata/tenant", tenantHealthLua},
}

type fixture struct {
	Description string                 `json:"description"`
	Object      map[string]interface{} `json:"object"`
	Expected    Result                 `json:"expected"`
	// Kstatus, when set, is what kstatus (Flux without healthCheckExprs) computes for the
	// same object.
	Kstatus string `json:"kstatus"`
	// Flux, when set, is what Flux computes with deploy/flux/health-check-exprs.yaml.
	Flux string `json:"flux"`
}

func fixtures(t *testing.T, dir string) map[string]fixture {
	t.Helper()
	paths, err := filepath.Glob(dir + "/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures under %s: %v", dir, err)
	}
	out := map[string]fixture{}
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var f fixture
		decoder := json.NewDecoder(bytes.NewReader(raw))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if f.Expected.Status == "" {
			t.Fatalf("%s: no expected.status", path)
		}
		out[strings.TrimSuffix(filepath.Base(path), ".json")] = f
	}
	return out
}

func script(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// Every fixture gets the health status and message it names.
func TestArgoHealthFixtures(t *testing.T) {
	for _, set := range fixtureSets {
		lua := script(t, set.script)
		for name, f := range fixtures(t, set.dir) {
			t.Run(filepath.Base(set.dir)+"/"+name, func(t *testing.T) {
				got, err := ArgoHealth(lua, f.Object)
				if err != nil {
					t.Fatalf("%s: %v", f.Description, err)
				}
				if got != f.Expected {
					t.Errorf("%s:\n got  %+v\n want %+v", f.Description, got, f.Expected)
				}
			})
		}
	}
}

// Every status of the mappings in docs/install.md is covered by at least one fixture; the
// tenant kinds are never paused, so never Suspended.
func TestArgoHealthFixturesCoverEveryStatus(t *testing.T) {
	for _, set := range fixtureSets {
		seen := map[string]bool{}
		for _, f := range fixtures(t, set.dir) {
			seen[f.Expected.Status] = true
		}
		want := []string{"Healthy", "Progressing", "Degraded", "Suspended"}
		if set.script == tenantHealthLua {
			want = want[:3]
			if seen["Suspended"] {
				t.Errorf("%s: a tenant fixture expects Suspended", set.dir)
			}
		}
		for _, status := range want {
			if !seen[status] {
				t.Errorf("%s: no fixture expects %s", set.dir, status)
			}
		}
	}
}

// Every tenant fixture's object is an Auth0Tenant or a ClusterAuth0Tenant, and both kinds are
// covered.
func TestTenantFixturesCoverBothKinds(t *testing.T) {
	seen := map[string]bool{}
	for name, f := range fixtures(t, "testdata/tenant") {
		kind, _ := f.Object["kind"].(string)
		if kind != "Auth0Tenant" && kind != "ClusterAuth0Tenant" {
			t.Errorf("%s: kind %q", name, kind)
		}
		seen[kind] = true
	}
	if !seen["Auth0Tenant"] || !seen["ClusterAuth0Tenant"] {
		t.Errorf("both tenant kinds need fixtures: %v", seen)
	}
}

// The same objects through kstatus, the library Flux's health checks use.
func TestKstatusFixtures(t *testing.T) {
	for _, set := range fixtureSets {
		for name, f := range fixtures(t, set.dir) {
			if f.Kstatus == "" {
				continue
			}
			t.Run(filepath.Base(set.dir)+"/"+name, func(t *testing.T) {
				got, err := Kstatus(f.Object)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != f.Kstatus {
					t.Errorf("%s: kstatus %s (%q), want %s", f.Description, got.Status, got.Message, f.Kstatus)
				}
			})
		}
	}
}

func fluxChecks(t *testing.T) []CustomHealthCheck {
	t.Helper()
	raw, err := os.ReadFile(fluxExprs)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := LoadHealthCheckExprs(raw)
	if err != nil {
		t.Fatal(err)
	}
	return checks
}

// The same objects through Flux with deploy/flux/health-check-exprs.yaml. Every fixture of
// both sets says what Flux makes of it.
func TestFluxFixtures(t *testing.T) {
	checks := fluxChecks(t)
	for _, set := range fixtureSets {
		for name, f := range fixtures(t, set.dir) {
			t.Run(filepath.Base(set.dir)+"/"+name, func(t *testing.T) {
				if f.Flux == "" {
					t.Fatalf("%s: no flux verdict", f.Description)
				}
				got, err := FluxHealth(checks, f.Object)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != f.Flux {
					t.Errorf("%s: Flux %s (%q), want %s", f.Description, got.Status, got.Message, f.Flux)
				}
				// Only an object without status may leave an expression without a field to
				// read: Flux keeps waiting, as it should for a resource the operator has not
				// seen yet.
				_, hasStatus := f.Object["status"]
				if got.Status == "Unknown" && hasStatus {
					t.Errorf("%s: an expression failed on an object with a status: %s", f.Description, got.Message)
				}
			})
		}
	}
}

// The snippet names each kind once, each with all three expressions, for the API group the
// operator serves.
func TestFluxExpressionsCoverEveryKind(t *testing.T) {
	checks := fluxChecks(t)
	var kinds []string
	for _, c := range checks {
		if c.APIVersion != "auth0.operators.dev/v1alpha1" {
			t.Errorf("%s: apiVersion %q", c.Kind, c.APIVersion)
		}
		if c.InProgress == "" || c.Failed == "" || c.Current == "" {
			t.Errorf("%s: inProgress, failed and current are all expected", c.Kind)
		}
		kinds = append(kinds, c.Kind)
	}
	if strings.Join(kinds, ",") != "ConnectionProfile,UserAttributeProfile,SelfServiceProfile,Auth0Tenant,ClusterAuth0Tenant" {
		t.Errorf("kinds %v", kinds)
	}
}

// What Flux's evaluator does beside the expressions: a generation not observed is in progress
// before any expression runs; none true is in progress; the first entry for a group and kind
// wins whatever its version; kinds without an entry get kstatus; an expression that does not
// parse is refused, one that fails on the object is Unknown.
func TestFluxEvaluatorSemantics(t *testing.T) {
	object := func(generation, observed int64, ready string) map[string]interface{} {
		return map[string]interface{}{
			"apiVersion": "example.dev/v1",
			"kind":       "Thing",
			"metadata":   map[string]interface{}{"name": "x", "generation": generation},
			"status": map[string]interface{}{
				"observedGeneration": observed,
				"conditions":         []interface{}{map[string]interface{}{"type": "Ready", "status": ready}},
			},
		}
	}
	current := "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')"
	for _, tc := range []struct {
		name   string
		checks []CustomHealthCheck
		object map[string]interface{}
		want   string
	}{
		{"current", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: current}}, object(2, 2, "True"), "Current"},
		{"generation first", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: "true", Failed: "true"}}, object(3, 2, "True"), "InProgress"},
		{"none true", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: current, Failed: "false"}}, object(2, 2, "False"), "InProgress"},
		{"inProgress before failed", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: "true", Failed: "true", InProgress: "true"}}, object(2, 2, "True"), "InProgress"},
		{"failed before current", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: "true", Failed: "true"}}, object(2, 2, "True"), "Failed"},
		{"any version, first wins", []CustomHealthCheck{
			{APIVersion: "example.dev/v2", Kind: "Thing", Current: "false", Failed: "true"},
			{APIVersion: "example.dev/v1", Kind: "Thing", Current: "true"},
		}, object(2, 2, "True"), "Failed"},
		{"other kind: kstatus", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Other", Current: "false"}}, object(2, 2, "True"), "Current"},
		{"missing field", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: "status.phase == 'Running'"}}, object(2, 2, "True"), "Unknown"},
		{"not a boolean", []CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: "'yes'"}}, object(2, 2, "True"), "Unknown"},
	} {
		got, err := FluxHealth(tc.checks, tc.object)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.Status != tc.want {
			t.Errorf("%s: %+v, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := FluxHealth([]CustomHealthCheck{{APIVersion: "example.dev/v1", Kind: "Thing", Current: "status.("}}, object(2, 2, "True")); err == nil {
		t.Error("an expression that does not parse was accepted")
	}
	for _, bad := range []string{
		"apiVersion: v1\nkind: ConfigMap\nspec: {healthCheckExprs: [{apiVersion: v1, kind: X, current: 'true'}]}",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec: {}",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec: {healthCheckExprs: [{apiVersion: v1, kind: X}]}",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec: {healthCheckExprs: [{apiVersion: v1, kind: X, current: 'true', ready: 'true'}]}",
	} {
		if checks, err := LoadHealthCheckExprs([]byte(bad)); err == nil {
			t.Errorf("%q was accepted: %+v", bad, checks)
		}
	}
}

// The argocd-cm snippet carries the scripts verbatim: health.lua for the three profile kinds,
// tenant-health.lua for both tenant kinds, under the keys Argo CD looks up
// (resource.customizations.health.<group>_<kind>), and nothing else.
func TestArgoConfigMapSnippetHoldsTheScripts(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/argocd/argocd-cm-snippet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" {
		t.Fatalf("kind %q", cm.Kind)
	}
	want := map[string]string{
		"resource.customizations.health.auth0.operators.dev_ConnectionProfile":    healthLua,
		"resource.customizations.health.auth0.operators.dev_UserAttributeProfile": healthLua,
		"resource.customizations.health.auth0.operators.dev_SelfServiceProfile":   healthLua,
		"resource.customizations.health.auth0.operators.dev_Auth0Tenant":          tenantHealthLua,
		"resource.customizations.health.auth0.operators.dev_ClusterAuth0Tenant":   tenantHealthLua,
	}
	for key, path := range want {
		if cm.Data[key] != script(t, path) {
			t.Errorf("data[%s] differs from %s; regenerate the snippet from it", key, path)
		}
	}
	if len(cm.Data) != len(want) {
		t.Errorf("the snippet has %d keys, want %d", len(cm.Data), len(want))
	}
}

// Argo CD refuses statuses it does not know and scripts that fail; so does ArgoHealth.
func TestArgoHealthRefusesBadScripts(t *testing.T) {
	object := map[string]interface{}{"metadata": map[string]interface{}{"name": "x"}}
	for _, bad := range []string{`return {status = "Fine"}`, `return 1`, `error("boom")`, `return os.exit(1)`} {
		if got, err := ArgoHealth(bad, object); err == nil {
			t.Errorf("%q gave %+v, want an error", bad, got)
		}
	}
}

// The command line: one object on stdin (JSON or YAML), one JSON line out.
func TestCommandLine(t *testing.T) {
	f := fixtures(t, "testdata/argocd")["stalled-conflict"]
	input, _ := yaml.Marshal(f.Object)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kstatus"}, "Failed"},
		{[]string{"argocd", healthLua}, "Degraded"},
		{[]string{"flux", fluxExprs}, "Failed"},
	} {
		var out bytes.Buffer
		if err := run(tc.args, bytes.NewReader(input), &out); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		var got Result
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v: %q: %v", tc.args, out.String(), err)
		}
		if got.Status != tc.want {
			t.Errorf("%v: %+v, want %s", tc.args, got, tc.want)
		}
	}
	if err := run([]string{"nope"}, strings.NewReader("{}"), &bytes.Buffer{}); err == nil {
		t.Error("an unknown command was accepted")
	}
}

// docs/install.md shows the scripts and the Flux Kustomization verbatim.
func TestInstallDocShowsTheScripts(t *testing.T) {
	raw, err := os.ReadFile("../../docs/install.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{healthLua, tenantHealthLua} {
		if !strings.Contains(string(raw), "```lua\n"+script(t, path)+"```\n") {
			t.Errorf("docs/install.md does not hold %s verbatim in a ```lua block", path)
		}
	}
	if !strings.Contains(string(raw), "```yaml\n"+script(t, fluxExprs)+"```\n") {
		t.Errorf("docs/install.md does not hold %s verbatim in a ```yaml block", fluxExprs)
	}
}
