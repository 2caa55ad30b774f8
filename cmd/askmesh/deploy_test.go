package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkArgs parses a command line as askmesh would, without running it:
// every command and flag must exist.
func checkArgs(t *testing.T, where string, args []string) {
	t.Helper()
	root := newRoot()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Fatalf("%s: %v: no such command (%v)", where, args, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("%s: %v: %v", where, args, err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Fatalf("%s: %v: %v", where, args, err)
	}
}

func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The deployment files in the repository run the askmesh this repository
// builds: the systemd unit's and the image's command lines parse, the unit
// does not restart on the exit codes of mistakes, the image builds with
// go.mod's Go.
func TestDeployFilesMatchTheBinary(t *testing.T) {
	t.Parallel()
	unit := repoFile(t, "deploy/askmesh.service")
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/askmesh (.+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("deploy/askmesh.service: no ExecStart=/usr/local/bin/askmesh ...")
	}
	checkArgs(t, "deploy/askmesh.service", strings.Fields(m[1]))
	m = regexp.MustCompile(`(?m)^RestartPreventExitStatus=(.+)$`).FindStringSubmatch(unit)
	if m == nil || !strings.Contains(" "+m[1]+" ", " "+strconv.Itoa(exitUsage)+" ") || !strings.Contains(" "+m[1]+" ", " "+strconv.Itoa(exitConfig)+" ") {
		t.Errorf("deploy/askmesh.service restarts on mistakes: RestartPreventExitStatus=%v, want %d and %d", m, exitUsage, exitConfig)
	}

	docker := repoFile(t, "Dockerfile")
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(repoFile(t, "go.mod"))
	if goVersion == nil || !strings.Contains(docker, "FROM golang:"+goVersion[1]+"-") {
		t.Errorf("the Dockerfile's builder is not go.mod's Go %v", goVersion)
	}
	m = regexp.MustCompile(`(?m)^CMD (\[.+\])$`).FindStringSubmatch(docker)
	var args []string
	if m == nil || json.Unmarshal([]byte(m[1]), &args) != nil {
		t.Fatalf("Dockerfile: no CMD [...] (%v)", m)
	}
	checkArgs(t, "Dockerfile", args)
	if !strings.Contains(repoFile(t, ".ko.yaml"), "main: ./cmd/askmesh\n") {
		t.Error(".ko.yaml does not build ./cmd/askmesh")
	}
}
