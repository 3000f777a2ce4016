package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/anthropics/anthropic-sdk-go/vertex"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

const (
	// vertexDefaultRegion serves every Claude model Vertex AI offers.
	vertexDefaultRegion = "us-east5"
	// vertexScope is the OAuth scope Vertex AI accepts; credentials without a
	// scope (workload identity federation) cannot mint tokens at all.
	vertexScope = "https://www.googleapis.com/auth/cloud-platform"
	// vertexProjectEnv names where the project comes from.
	vertexProjectEnv = "VERTEXAI_PROJECT (or GOOGLE_CLOUD_PROJECT)"
	// vertexADCKeyEnv says what to check when Vertex AI refuses the
	// Application Default Credentials.
	vertexADCKeyEnv = "the Google credentials: GOOGLE_APPLICATION_CREDENTIALS (a service-account key file) or `gcloud auth application-default login`, and that VERTEXAI_PROJECT has Claude enabled in Model Garden"
	// vertexTokenKeyEnv is the same for a token passed in VERTEXAI_ACCESS_TOKEN.
	vertexTokenKeyEnv = "VERTEXAI_ACCESS_TOKEN, which expires an hour after it was issued; unset it to use GOOGLE_APPLICATION_CREDENTIALS"
)

// vertexName matches project ids (including legacy "example.com:proj") and
// regions. The region becomes part of the host name the bearer token is sent
// to, so anything else is refused rather than risk sending it elsewhere.
var vertexName = regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]*$`)

// VertexConfig says where and as whom to call Claude on Vertex AI.
type VertexConfig struct {
	Project string
	// Region is a location such as "us-east5", "europe-west1" or "global";
	// empty means us-east5.
	Region string
	// Endpoint replaces https://{region}-aiplatform.googleapis.com (a private
	// endpoint, a proxy, tests); empty means the public one.
	Endpoint string
	// Credentials mint the bearer tokens; nil means Application Default
	// Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the
	// metadata server on Google Cloud).
	Credentials *google.Credentials
	// KeyEnv says what to check when Vertex AI refuses the credentials;
	// empty means the Application Default Credentials' sources.
	KeyEnv string
}

// NewVertex builds a client for Claude on Vertex AI. It is the Anthropic
// provider with other client options: the SDK's vertex option moves each
// Messages request to the project's :rawPredict URL, swaps the body's "model"
// for "anthropic_version", and authorizes it with Google OAuth tokens, so
// request building, prompt caching, usage and error mapping are shared.
// httpClient may be nil for a client with a 10-minute timeout. Configuration
// mistakes are permanent errors.
func NewVertex(cfg VertexConfig, httpClient *http.Client) (*Anthropic, error) {
	if cfg.Project == "" {
		return nil, &PermanentError{Err: fmt.Errorf("Vertex AI needs a Google Cloud project: set %s", vertexProjectEnv)}
	}
	if cfg.Region == "" {
		cfg.Region = vertexDefaultRegion
	}
	if !vertexName.MatchString(cfg.Project) {
		return nil, &PermanentError{Err: fmt.Errorf("invalid Vertex AI project %q (check %s; want a project id such as my-project-123)", cfg.Project, vertexProjectEnv)}
	}
	if !vertexName.MatchString(cfg.Region) {
		return nil, &PermanentError{Err: fmt.Errorf("invalid Vertex AI location %q (check VERTEXAI_LOCATION or CLOUD_ML_REGION; want e.g. us-east5)", cfg.Region)}
	}
	if cfg.Endpoint != "" {
		if u, err := url.Parse(cfg.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, &PermanentError{Err: fmt.Errorf("invalid Vertex AI endpoint %q (check AISCI_VERTEX_ENDPOINT or the model's base_url; want e.g. https://us-east5-aiplatform.googleapis.com)", cfg.Endpoint)}
		}
	}
	creds, keyEnv := cfg.Credentials, cfg.KeyEnv
	if creds == nil {
		var err error
		if creds, err = vertexDefaultCredentials(); err != nil {
			return nil, &PermanentError{Err: fmt.Errorf("no Google credentials for Vertex AI: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login`, or run on Google Cloud: %w", err)}
		}
	}
	if keyEnv == "" {
		keyEnv = vertexADCKeyEnv
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Minute}
	}
	vopt, err := vertexOption(cfg.Region, cfg.Project, creds)
	if err != nil {
		return nil, &PermanentError{Err: err}
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		// Before the vertex option, which then wraps this client's transport
		// with OAuth instead of replacing the client (and its timeout).
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0), // Temporal retries
		vopt,
	}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithBaseURL(cfg.Endpoint))
	}
	return &Anthropic{
		client:   anthropic.NewClient(opts...),
		provider: fmt.Sprintf("Vertex AI (project %s, location %s)", cfg.Project, cfg.Region),
		keyEnv:   keyEnv,
	}, nil
}

// vertexOption is vertex.WithCredentials, which panics when it cannot build
// Google's HTTP client (a broken client-certificate setup, say): a worker
// must report that, not crash.
func vertexOption(region, project string, creds *google.Credentials) (opt option.RequestOption, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("setting up the Vertex AI client: %v", p)
		}
	}()
	return vertex.WithCredentials(context.Background(), region, project, creds), nil
}

// vertexADC caches Application Default Credentials by credentials file:
// Registry.Client runs for every activity, and a fresh token source would
// fetch a new access token for every call.
var vertexADC struct {
	sync.Mutex
	byFile map[string]*google.Credentials
}

// vertexDefaultCredentials finds the Application Default Credentials. Only
// successes are cached, so fixing the setup needs no worker restart.
func vertexDefaultCredentials() (*google.Credentials, error) {
	key := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	vertexADC.Lock()
	defer vertexADC.Unlock()
	if c, ok := vertexADC.byFile[key]; ok {
		return c, nil
	}
	// Not a call's context: the token source keeps this one to refresh
	// tokens long after the call that created it.
	c, err := google.FindDefaultCredentials(context.Background(), vertexScope)
	if err != nil {
		return nil, err
	}
	if vertexADC.byFile == nil {
		vertexADC.byFile = map[string]*google.Credentials{}
	}
	vertexADC.byFile[key] = c
	return c, nil
}

// vertexTokenRefused reports whether err is Google refusing to mint an
// access token (a revoked key, an expired login): no retry fixes that.
func vertexTokenRefused(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return false
	}
	switch re.Response.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return false
}

// vertex configures a Vertex AI client from the environment.
func (r *Registry) vertex(m ModelInfo) (Client, error) {
	cfg := VertexConfig{
		Project:  firstNonEmpty(r.getenv("VERTEXAI_PROJECT"), r.getenv("GOOGLE_CLOUD_PROJECT")),
		Region:   firstNonEmpty(r.getenv("VERTEXAI_LOCATION"), r.getenv("CLOUD_ML_REGION"), vertexDefaultRegion),
		Endpoint: firstNonEmpty(m.BaseURL, r.getenv("AISCI_VERTEX_ENDPOINT")),
	}
	if cfg.Project == "" {
		return nil, missingEnv(m, "VERTEXAI_PROJECT (or GOOGLE_CLOUD_PROJECT: the Google Cloud project with Claude enabled in Vertex AI) and Google credentials (GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`)")
	}
	// A ready-made token skips the credential chain: `gcloud auth
	// print-access-token` on a laptop, a token broker, tests.
	if tok := r.getenv("VERTEXAI_ACCESS_TOKEN"); tok != "" {
		cfg.Credentials = &google.Credentials{ProjectID: cfg.Project, TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})}
		cfg.KeyEnv = vertexTokenKeyEnv
	}
	c, err := NewVertex(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", m.Name, err)
	}
	return c, nil
}
