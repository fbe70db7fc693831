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

const healthLua = "../../deploy/argocd/health.lua"

type fixture struct {
	Description string                 `json:"description"`
	Object      map[string]interface{} `json:"object"`
	Expected    Result                 `json:"expected"`
	// Kstatus, when set, is what kstatus (Flux) computes for the same object.
	Kstatus string `json:"kstatus"`
}

func fixtures(t *testing.T) map[string]fixture {
	t.Helper()
	paths, err := filepath.Glob("testdata/argocd/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures under testdata/argocd: %v", err)
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

func script(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(healthLua)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// Every fixture gets the health status and message it names.
func TestArgoHealthFixtures(t *testing.T) {
	lua := script(t)
	for name, f := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
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

// Every status of the mapping in docs/install.md is covered by at least one fixture.
func TestArgoHealthFixturesCoverEveryStatus(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range fixtures(t) {
		seen[f.Expected.Status] = true
	}
	for _, want := range []string{"Healthy", "Progressing", "Degraded", "Suspended"} {
		if !seen[want] {
			t.Errorf("no fixture expects %s", want)
		}
	}
}

// The same objects through kstatus, the library Flux's health checks use.
func TestKstatusFixtures(t *testing.T) {
	for name, f := range fixtures(t) {
		if f.Kstatus == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
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

// The argocd-cm snippet carries health.lua verbatim.
func TestArgoConfigMapSnippetHoldsTheScript(t *testing.T) {
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
	key := "resource.customizations.health.auth0.operators.dev_ConnectionProfile"
	if cm.Kind != "ConfigMap" {
		t.Fatalf("kind %q", cm.Kind)
	}
	if cm.Data[key] != script(t) {
		t.Errorf("data[%s] differs from deploy/argocd/health.lua; regenerate the snippet from it", key)
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
	f := fixtures(t)["stalled-conflict"]
	input, _ := yaml.Marshal(f.Object)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kstatus"}, "Failed"},
		{[]string{"argocd", healthLua}, "Degraded"},
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

// docs/install.md shows the script verbatim.
func TestInstallDocShowsTheScript(t *testing.T) {
	raw, err := os.ReadFile("../../docs/install.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "```lua\n"+script(t)+"```\n") {
		t.Error("docs/install.md does not hold deploy/argocd/health.lua verbatim in a ```lua block")
	}
}
