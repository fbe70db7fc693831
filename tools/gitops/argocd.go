package main

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Argo CD's health statuses (github.com/argoproj/gitops-engine/pkg/health).
var argoStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// ArgoHealth runs a custom health check the way Argo CD does (util/lua in argo-cd): a Lua 5.1
// state in gopher-lua with only the safe libraries, the object as the global `obj`, and a
// returned table {status, message} whose status must be one Argo CD knows.
func ArgoHealth(script string, object map[string]interface{}) (Result, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return Result{}, err
		}
	}
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(script); err != nil {
		return Result{}, fmt.Errorf("health.lua failed: %w", err)
	}
	returned := l.Get(-1)
	table, ok := returned.(*lua.LTable)
	if !ok {
		return Result{}, fmt.Errorf("health.lua returned %s, not a table", returned.Type())
	}
	statusValue, ok := table.RawGetString("status").(lua.LString)
	if !ok || !argoStatuses[string(statusValue)] {
		return Result{}, fmt.Errorf("health.lua returned status %v, which Argo CD does not know", table.RawGetString("status"))
	}
	message := ""
	if m, ok := table.RawGetString("message").(lua.LString); ok {
		message = string(m)
	}
	return Result{Status: string(statusValue), Message: message}, nil
}

// toLua converts decoded JSON the way Argo CD's decodeValue does: objects and arrays become
// tables (arrays 1-based), numbers LNumber, null nil.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []interface{}:
		t := l.NewTable()
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.NewTable()
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(v))
	}
}
