// Command kube is a multi-call binary (like the old hyperkube): one link step
// instead of five ~100 MB ones, which dominates a cold build on two cores.
// It dispatches on the name it was invoked as (symlinks made by
// scripts/build-controlplane) or, failing that, on its first argument.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata" // CronJob time zones, as upstream's mains do

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

var commands = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
}

func run(name string, args []string) int {
	if name == "etcd" {
		etcdmain.Main(append([]string{"etcd"}, args...))
		return 0
	}
	newCmd, ok := commands[name]
	if !ok {
		return -1
	}
	cmd := newCmd()
	cmd.SetArgs(args)
	return cli.Run(cmd)
}

func main() {
	if code := run(filepath.Base(os.Args[0]), os.Args[1:]); code >= 0 {
		os.Exit(code)
	}
	if len(os.Args) > 1 {
		if code := run(os.Args[1], os.Args[2:]); code >= 0 {
			os.Exit(code)
		}
	}
	fmt.Fprintln(os.Stderr, "usage: kube {etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet} [flags]")
	os.Exit(2)
}
