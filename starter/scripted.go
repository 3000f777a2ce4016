package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/scripted"
)

func scriptedCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "scripted-llm",
		Short: "Serve the scripted test-double model over the OpenAI chat-completions protocol",
		Long: `Serves the deterministic scripted researcher at /v1/chat/completions. It is a test
double for tests and offline demos, not a language model. Point a worker at it with
OPENAI_BASE_URL=http://ADDR/v1 OPENAI_API_KEY=x and any model name.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "scripted model listening on http://%s/v1\n", addr)
			srv := &http.Server{Addr: addr, Handler: scripted.Handler(), ReadHeaderTimeout: 10 * time.Second}
			return srv.ListenAndServe()
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8089", "listen address")
	return cmd
}
