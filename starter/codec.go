package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/codec"
	"github.com/aiscientist/aiscientist/worker/app"
)

func codecServerCmd() *cobra.Command {
	var ip string
	var port int
	var origins []string
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec for the Web UI, so holders of the key see decrypted payloads",
		Long: `With AISCI_CODEC_KEY (or AISCI_CODEC_KEY_FILE) set, workers and the starter
encrypt every payload Temporal stores (AES-256-GCM after zlib). This serves the
codec endpoint a Temporal Web UI calls from the browser to show them decoded: set
it in the UI's "Codec Server" settings (or its codec.endpoint config). It listens
on loopback by default: whoever reaches it can decode payloads. worker --dev serves
one itself next to its Web UI when a key is set.`,
		Example: `  AISCI_CODEC_KEY=$(cat ~/.aiscientist/codec.key) starter codec-server --port 8081 --origin http://127.0.0.1:8233`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := app.CodecFromEnv()
			if err != nil {
				return err
			}
			if c == nil {
				return fmt.Errorf("no key: set %s (base64 of 32 bytes; make one with: head -c 32 /dev/urandom | base64) or %s", codec.KeyEnv, codec.KeyFileEnv)
			}
			addr := net.JoinHostPort(ip, strconv.Itoa(port))
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("codec server: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "codec endpoint: http://%s (key %s; allowed Web UI origins: %v)\n", ln.Addr(), c.KeyID(), origins)
			srv := &http.Server{Handler: c.Handler(origins...), ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ip, "ip", "127.0.0.1", "address to listen on")
	cmd.Flags().IntVar(&port, "port", 8081, "port to listen on")
	cmd.Flags().StringSliceVar(&origins, "origin", []string{"http://127.0.0.1:8233", "http://localhost:8233"}, "Web UI addresses allowed to call it from a browser; repeatable")
	return cmd
}
