package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/gpu"
)

func gpusCmd() *cobra.Command {
	var cpuSlots int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gpus",
		Short: "Show the GPUs (or CPU slots) this host offers to experiments",
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := gpu.NewProbe()
			defer p.Close()
			inv := gpu.Discover(p, cpuSlots)
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(inv)
			}
			if inv.Driver != "" {
				fmt.Fprintf(w, "NVIDIA driver %s\n", inv.Driver)
			}
			if inv.Note != "" {
				fmt.Fprintf(w, "%s\n", inv.Note)
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLOT\tNAME\tMEMORY USED/TOTAL\tUTILISATION\tUUID")
			for _, d := range inv.Devices {
				mem, util := "-", "-"
				if !d.CPU {
					mem = fmt.Sprintf("%.1f/%.1f GiB", float64(d.MemoryUsed)/(1<<30), float64(d.MemoryTotal)/(1<<30))
					util = fmt.Sprintf("%d%%", d.Utilization)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", d.Index, d.Name, mem, util, d.UUID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&cpuSlots, "cpu-slots", 0, "CPU slots to offer when the host has no GPU (0: one per four cores)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
