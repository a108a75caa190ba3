//go:build tools

// Package tools pins cmd/kubelet into this module's build list.
package tools

import _ "k8s.io/kubernetes/cmd/kubelet"
