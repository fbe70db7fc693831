// promql-selectors parses PromQL expressions with Prometheus's own parser and prints the
// series selectors each one uses, so a test can check that alerting rules and dashboard
// queries name only metrics and labels the operator exports.
//
// Input (stdin): a JSON array of expressions. Output (stdout): a JSON array, one entry per
// expression, in order: {"error": "..."} when it does not parse, else
// {"selectors": [{"metric": "name", "matchers": [{"label": "l", "type": "=", "value": "v"}]}]}
// (the metric name's own matcher is left out of "matchers"). Exit status 0 unless the input
// cannot be read.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type matcher struct {
	Label string `json:"label"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type selector struct {
	Metric   string    `json:"metric"`
	Matchers []matcher `json:"matchers"`
}

type result struct {
	Error     string     `json:"error,omitempty"`
	Selectors []selector `json:"selectors,omitempty"`
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintf(os.Stderr, "promql-selectors: reading a JSON array of strings from stdin: %v\n", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := make([]result, 0, len(exprs))
	for _, text := range exprs {
		expr, err := p.ParseExpr(text)
		if err != nil {
			out = append(out, result{Error: err.Error()})
			continue
		}
		found := []selector{}
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			s := selector{Metric: vs.Name, Matchers: []matcher{}}
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName {
					if s.Metric == "" && m.Type == labels.MatchEqual {
						s.Metric = m.Value
					}
					continue
				}
				s.Matchers = append(s.Matchers, matcher{Label: m.Name, Type: m.Type.String(), Value: m.Value})
			}
			found = append(found, s)
			return nil
		})
		out = append(out, result{Selectors: found})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "promql-selectors: %v\n", err)
		os.Exit(2)
	}
}
