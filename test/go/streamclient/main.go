// streamclient drives pod-launch's CRI streaming server with the real Go
// clients of Kubernetes (k8s.io/client-go tools/remotecommand and
// tools/portforward), as kubectl, crictl and critest do. The TypeScript
// integration tests run it and check what it printed.
//
//	streamclient exec URL [-transport spdy|websocket] [-protocol P]... [-stdin] [-tty] [-no-stdout] [-no-stderr] [-resize 24x80,...] [-result FILE]
//	streamclient portforward URL [-transport spdy|websocket] -ports LOCAL:REMOTE,...
//
// exec: the remote stdout and stderr go to ours, our stdin to the remote one
// (-stdin); the outcome is written as JSON to -result: {"exitCode": N} or
// {"error": "..."}. portforward: listens on 127.0.0.1, prints "ready
// LOCAL:REMOTE ..." once listening, forwards until our stdin closes; the
// client's own messages go to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// sizes is a TerminalSizeQueue that hands out fixed sizes, then ends.
type sizes struct{ q []remotecommand.TerminalSize }

func (s *sizes) Next() *remotecommand.TerminalSize {
	if len(s.q) == 0 {
		return nil
	}
	n := s.q[0]
	s.q = s.q[1:]
	return &n
}

func parseSizes(v string) (*sizes, error) {
	s := &sizes{}
	for _, p := range strings.Split(v, ",") {
		rc := strings.SplitN(p, "x", 2)
		if len(rc) != 2 {
			return nil, fmt.Errorf("-resize: %q is not ROWSxCOLS", p)
		}
		rows, err1 := strconv.ParseUint(rc[0], 10, 16)
		cols, err2 := strconv.ParseUint(rc[1], 10, 16)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("-resize: %q is not ROWSxCOLS", p)
		}
		s.q = append(s.q, remotecommand.TerminalSize{Height: uint16(rows), Width: uint16(cols)})
	}
	return s, nil
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "streamclient: "+format+"\n", a...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: streamclient exec|portforward URL [flags]")
	}
	cmd, rawURL := os.Args[1], os.Args[2]
	u, err := url.Parse(rawURL)
	if err != nil {
		fail("%v", err)
	}
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	transport := fs.String("transport", "spdy", "spdy or websocket")
	var protocols list
	fs.Var(&protocols, "protocol", "sub-protocol to offer (repeatable; default: the client's own list)")
	stdin := fs.Bool("stdin", false, "send our stdin")
	tty := fs.Bool("tty", false, "ask for a terminal")
	noStdout := fs.Bool("no-stdout", false, "do not ask for stdout")
	noStderr := fs.Bool("no-stderr", false, "do not ask for stderr")
	resize := fs.String("resize", "", "terminal sizes to send, ROWSxCOLS,...")
	result := fs.String("result", "", "write the outcome as JSON to this file")
	ports := fs.String("ports", "", "LOCAL:REMOTE,... (portforward)")
	if err := fs.Parse(os.Args[3:]); err != nil {
		fail("%v", err)
	}
	config := &rest.Config{TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	switch cmd {
	case "exec":
		runExec(config, u, *transport, protocols, *stdin, *tty, !*noStdout, !*noStderr, *resize, *result)
	case "portforward":
		runPortForward(config, u, *transport, *ports)
	default:
		fail("unknown command %q", cmd)
	}
}

func runExec(config *rest.Config, u *url.URL, transport string, protocols list, stdin, tty, stdout, stderr bool, resize, result string) {
	var e remotecommand.Executor
	var err error
	switch {
	case transport == "spdy" && len(protocols) == 0:
		e, err = remotecommand.NewSPDYExecutor(config, "POST", u)
	case transport == "spdy":
		tr, up, err2 := spdy.RoundTripperFor(config)
		if err2 != nil {
			fail("%v", err2)
		}
		e, err = remotecommand.NewSPDYExecutorForProtocols(tr, up, "POST", u, protocols...)
	case transport == "websocket" && len(protocols) == 0:
		e, err = remotecommand.NewWebSocketExecutor(config, "GET", u.String())
	case transport == "websocket":
		e, err = remotecommand.NewWebSocketExecutorForProtocols(config, "GET", u.String(), protocols...)
	default:
		fail("unknown transport %q", transport)
	}
	if err != nil {
		fail("%v", err)
	}
	opts := remotecommand.StreamOptions{Tty: tty}
	if stdin {
		opts.Stdin = os.Stdin
	}
	if stdout {
		opts.Stdout = os.Stdout
	}
	if stderr && !tty {
		opts.Stderr = os.Stderr
	}
	if resize != "" {
		q, err := parseSizes(resize)
		if err != nil {
			fail("%v", err)
		}
		opts.TerminalSizeQueue = q
	}
	err = e.StreamWithContext(context.Background(), opts)
	out := map[string]any{"exitCode": 0}
	var code exec.ExitError
	if errors.As(err, &code) {
		out = map[string]any{"exitCode": code.ExitStatus(), "error": err.Error()}
	} else if err != nil {
		out = map[string]any{"error": err.Error()}
	}
	b, _ := json.Marshal(out)
	if result == "" {
		fmt.Fprintln(os.Stderr, string(b))
	} else if err := os.WriteFile(result, b, 0o600); err != nil {
		fail("%v", err)
	}
}

func runPortForward(config *rest.Config, u *url.URL, transport, ports string) {
	var dialer httpstream.Dialer
	switch transport {
	case "spdy":
		tr, up, err := spdy.RoundTripperFor(config)
		if err != nil {
			fail("%v", err)
		}
		dialer = spdy.NewDialer(up, &http.Client{Transport: tr}, "POST", u)
	case "websocket":
		d, err := portforward.NewSPDYOverWebsocketDialer(u, config)
		if err != nil {
			fail("%v", err)
		}
		dialer = d
	default:
		fail("unknown transport %q", transport)
	}
	stop := make(chan struct{})
	ready := make(chan struct{})
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, strings.Split(ports, ","), stop, ready, os.Stderr, os.Stderr)
	if err != nil {
		fail("%v", err)
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		fail("port-forward: %v", err)
	}
	got, err := pf.GetPorts()
	if err != nil {
		fail("%v", err)
	}
	line := "ready"
	for _, p := range got {
		line += fmt.Sprintf(" %d:%d", p.Local, p.Remote)
	}
	fmt.Println(line)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	if err := <-done; err != nil {
		fail("port-forward: %v", err)
	}
}
