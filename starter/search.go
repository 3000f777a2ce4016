package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/worker/app"
)

func searchCmd() *cobra.Command {
	var engine, dataDir, artifacts string
	var limit int
	var bibtex, asJSON, noCache bool
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search the literature with the workers' client, rate limits and cache",
		Long: `Searches Semantic Scholar (default), OpenAlex or arXiv exactly as the workers do: the
same client, the same per-engine rate limit, failover to the other engines when the
chosen one fails, and the same cache of answers in the artifact store
(<artifacts>/literature), so a search done here is free for a paper later and the
other way round. Prints the numbered results (title, authors, venue, year, citations,
abstract), their BibTeX with --bibtex, or JSON with --json.

Keys and endpoints: S2_API_KEY (sent as X-API-KEY), SEMANTIC_SCHOLAR_BASE_URL,
OPENALEX_MAIL_ADDRESS (OpenAlex's polite pool), OPENALEX_BASE_URL, ARXIV_BASE_URL.`,
		Example: `  starter search "grokking weight decay" --limit 5
  starter search "progress measures for grokking" --engine openalex --bibtex`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := scholar.ConfigFromEnv(os.Getenv)
			cfg.Engine = engine
			if !noCache {
				if artifacts == "" {
					artifacts = filepath.Join(dataDir, "artifacts")
				}
				cfg.CacheDir = filepath.Join(artifacts, "literature")
			}
			s, err := scholar.New(cfg)
			if err != nil {
				return err
			}
			res, err := s.Search(cmd.Context(), strings.Join(args, " "), limit)
			if err != nil {
				return err
			}
			return printSearch(cmd.OutOrStdout(), cmd.ErrOrStderr(), res, bibtex, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&engine, "engine", scholar.SemanticScholar, "engine tried first: "+strings.Join(scholar.Engines, ", "))
	f.IntVar(&limit, "limit", 10, "results to ask for")
	f.BoolVar(&bibtex, "bibtex", false, "print the results' BibTeX entries")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&noCache, "no-cache", false, "ask the engine even when the answer is cached (and do not store it)")
	f.StringVar(&dataDir, "data-dir", app.DefaultDataDir(), "the worker's --data-dir (the cache is in its artifact store)")
	f.StringVar(&artifacts, "artifacts", "", "the worker's artifact store (default <data-dir>/artifacts)")
	return cmd
}

func printSearch(w, errw io.Writer, res scholar.Result, bibtex, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(errw, "skipped: %s\n", s)
	}
	if len(res.Papers) == 0 {
		fmt.Fprintf(w, "%s found nothing\n", res.Engine)
		return nil
	}
	if bibtex {
		for _, p := range res.Papers {
			fmt.Fprintf(w, "%s\n\n", p.BibTeX)
		}
		return nil
	}
	fmt.Fprintf(w, "%d results from %s:\n", len(res.Papers), res.Engine)
	for i, p := range res.Papers {
		where := strings.TrimSpace(strings.Join(nonEmpty(p.Venue, yearOf(p.Year)), ", "))
		fmt.Fprintf(w, "\n%d. %s", i+1, p.Title)
		if where != "" {
			fmt.Fprintf(w, " (%s)", where)
		}
		fmt.Fprintf(w, " [%s] %d citations\n", p.Key, p.Citations)
		if len(p.Authors) > 0 {
			fmt.Fprintf(w, "   %s\n", strings.Join(p.Authors, ", "))
		}
		if p.Abstract != "" {
			fmt.Fprintf(w, "   %s\n", clipText(p.Abstract, 400))
		}
	}
	return nil
}

func yearOf(y int) string {
	if y == 0 {
		return ""
	}
	return fmt.Sprint(y)
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// clipText shortens s to at most n runes.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
