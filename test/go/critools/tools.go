//go:build tools

// Package critools only pins the packages critest's test binary imports, so
// that go.sum holds them and `go test -c sigs.k8s.io/cri-tools/cmd/critest`
// builds from this module.
package critools

import (
	_ "github.com/onsi/ginkgo/v2"
	_ "github.com/onsi/gomega"
	_ "sigs.k8s.io/cri-tools/pkg/benchmark"
	_ "sigs.k8s.io/cri-tools/pkg/framework"
	_ "sigs.k8s.io/cri-tools/pkg/validate"
)
