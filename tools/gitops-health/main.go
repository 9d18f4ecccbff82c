// Command gitops-health judges EvolvedPipeline objects the way GitOps tools do, with their own
// libraries: Flux's kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status) and Argo CD's Lua runtime
// (github.com/yuin/gopher-lua, set up like a health check from argocd-cm: only the package, base
// and table libraries, a one-second limit, the object as the global `obj`).
//
// It reads a JSON array of objects on stdin and writes a JSON array of verdicts, one per object:
//
//	gitops-health kstatus < objects.json
//	gitops-health argocd health.lua < objects.json
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Verdict is one object's health as a tool reports it.
type Verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func kstatus(obj map[string]interface{}) (Verdict, error) {
	result, err := status.Compute(&unstructured.Unstructured{Object: obj})
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Status: result.Status.String(), Message: result.Message}, nil
}

// Argo CD's health statuses; anything else a script returns is reported as Unknown by Argo CD.
var argoStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func toLua(state *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []interface{}:
		table := state.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(state, item))
		}
		return table
	case map[string]interface{}:
		table := state.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(state, item))
		}
		return table
	}
	return lua.LNil
}

func argocd(script string, obj map[string]interface{}) (Verdict, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable,
	} {
		if err := state.CallByParam(lua.P{Fn: state.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			return Verdict{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("obj", toLua(state, obj))
	if err := state.DoString(script); err != nil {
		return Verdict{}, err
	}
	returned, ok := state.Get(-1).(*lua.LTable)
	if !ok {
		return Verdict{}, fmt.Errorf("the script returned %s, not a table", state.Get(-1).Type())
	}
	verdict := Verdict{}
	if s, ok := returned.RawGetString("status").(lua.LString); ok {
		verdict.Status = string(s)
	}
	if m, ok := returned.RawGetString("message").(lua.LString); ok {
		verdict.Message = string(m)
	}
	if !argoStatuses[verdict.Status] {
		return Verdict{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return verdict, nil
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] == "argocd" && len(os.Args) != 3) || (os.Args[1] != "argocd" && os.Args[1] != "kstatus") {
		fmt.Fprintln(os.Stderr, "usage: gitops-health kstatus | gitops-health argocd SCRIPT.lua  (objects: a JSON array on stdin)")
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var objects []map[string]interface{}
	// Integers as int64, as the apiserver's objects reach kstatus and Argo CD (not float64).
	if err := k8sjson.Unmarshal(input, &objects); err != nil {
		fmt.Fprintln(os.Stderr, "stdin is not a JSON array of objects:", err)
		os.Exit(1)
	}
	script := ""
	if os.Args[1] == "argocd" {
		text, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		script = string(text)
	}
	verdicts := make([]Verdict, 0, len(objects))
	for i, obj := range objects {
		var verdict Verdict
		if script != "" {
			verdict, err = argocd(script, obj)
		} else {
			verdict, err = kstatus(obj)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "object %d: %v\n", i, err)
			os.Exit(1)
		}
		verdicts = append(verdicts, verdict)
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdicts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
