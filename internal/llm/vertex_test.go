package llm

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

const (
	vertexTestModel   = "vertex_ai/claude-3-5-sonnet-v2@20241022"
	vertexTestToken   = "ya29.test-access-token"
	vertexTestProject = "proj-1"
)

// vertexPath is where Vertex AI serves a Claude model.
func vertexPath(project, region, model string) string {
	return "/v1/projects/" + project + "/locations/" + region + "/publishers/anthropic/models/" + model + ":rawPredict"
}

// vertexEnv is a Registry environment pointing Vertex AI at a fake.
func vertexEnv(endpoint string, extra map[string]string) func(string) string {
	env := map[string]string{
		"VERTEXAI_PROJECT":      vertexTestProject,
		"VERTEXAI_ACCESS_TOKEN": vertexTestToken,
		"AISCI_VERTEX_ENDPOINT": endpoint,
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestVertexChat(t *testing.T) {
	short := []Message{{Role: "user", Content: "Say hi."}}
	cases := []struct {
		name     string
		model    string
		env      map[string]string
		wantPath string
		reply    func(int) anthReply
		check    func(t *testing.T, resp Response, err error, calls []anthCall)
	}{
		{
			name:     "success rewrites the request and prices cached usage",
			model:    vertexTestModel,
			wantPath: vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022"),
			reply:    always(anthReply{body: anthMessage([]map[string]any{anthText("hi")}, "end_turn", 1000, 500, 200, 800)}),
			check: func(t *testing.T, resp Response, err error, calls []anthCall) {
				if err != nil {
					t.Fatalf("Chat: %v", err)
				}
				if resp.Content != "hi" || resp.FinishReason != FinishStop {
					t.Errorf("Content/FinishReason = %q/%q", resp.Content, resp.FinishReason)
				}
				want := Usage{PromptTokens: 2000, CachedPromptTokens: 800, CompletionTokens: 500, Calls: 1}
				wantCost := (1200*3 + 800*0.3 + 500*15) / 1e6
				if math.Abs(resp.Usage.CostUSD-wantCost) > 1e-12 {
					t.Errorf("CostUSD = %v, want %v at Anthropic's prices", resp.Usage.CostUSD, wantCost)
				}
				resp.Usage.CostUSD = 0
				if resp.Usage != want {
					t.Errorf("Usage = %+v, want %+v", resp.Usage, want)
				}
				b := calls[0].body
				if got := b["anthropic_version"]; got != "vertex-2023-10-16" {
					t.Errorf("anthropic_version = %v, want vertex-2023-10-16", got)
				}
				if _, ok := b["model"]; ok {
					t.Errorf("body carries model %v; Vertex AI takes it from the URL", b["model"])
				}
				if got := anthPath(t, b, "system", 0, "cache_control", "type"); got != "ephemeral" {
					t.Errorf("system cache_control = %v, want the Anthropic request shape kept", got)
				}
				if got := b["max_tokens"]; got != float64(DefaultOutputCap) { // the model's cap, from the catalog
					t.Errorf("max_tokens = %v", got)
				}
			},
		},
		{
			name:     "prefix-rule name, GOOGLE_CLOUD_PROJECT and CLOUD_ML_REGION",
			model:    "vertex_ai/claude-opus-4@20250514",
			env:      map[string]string{"VERTEXAI_PROJECT": "", "GOOGLE_CLOUD_PROJECT": "other-proj", "CLOUD_ML_REGION": "europe-west1"},
			wantPath: vertexPath("other-proj", "europe-west1", "claude-opus-4@20250514"),
			reply:    always(anthOK("ok", "end_turn")),
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				if err != nil || resp.Content != "ok" {
					t.Fatalf("Chat = %q, %v", resp.Content, err)
				}
				if resp.Usage.CostUSD != 0 {
					t.Errorf("CostUSD = %v for a model without known prices", resp.Usage.CostUSD)
				}
			},
		},
		{
			name:     "VERTEXAI_LOCATION wins over CLOUD_ML_REGION",
			model:    "vertex_ai/claude-sonnet-4@20250514",
			env:      map[string]string{"VERTEXAI_LOCATION": "us-central1", "CLOUD_ML_REGION": "europe-west1"},
			wantPath: vertexPath(vertexTestProject, "us-central1", "claude-sonnet-4@20250514"),
			reply:    always(anthOK("ok", "max_tokens")),
			check: func(t *testing.T, resp Response, err error, _ []anthCall) {
				if err != nil || resp.FinishReason != FinishLength {
					t.Fatalf("FinishReason = %q, %v", resp.FinishReason, err)
				}
			},
		},
		{
			name:     "429 with Retry-After is retryable",
			model:    vertexTestModel,
			wantPath: vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022"),
			reply:    always(anthErr(429, "rate_limit_error", "slow down", map[string]string{"Retry-After": "7"})),
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 7*time.Second, "Vertex AI", "HTTP 429", "claude-3-5-sonnet-v2@20241022")
			},
		},
		{
			name:     "Google's own quota error is retryable",
			model:    vertexTestModel,
			wantPath: vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022"),
			reply:    always(anthReply{status: 429, body: `{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model","status":"RESOURCE_EXHAUSTED"}}`}),
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "HTTP 429", "Quota exceeded")
			},
		},
		{
			name:     "503 is retryable",
			model:    vertexTestModel,
			wantPath: vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022"),
			reply:    always(anthErr(503, "api_error", "unavailable", nil)),
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantRetryable(t, err, 0, "HTTP 503")
			},
		},
		{
			name:     "401 is permanent and names the credential variables",
			model:    vertexTestModel,
			wantPath: vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022"),
			reply:    always(anthReply{status: 401, body: `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`}),
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "HTTP 401", "VERTEXAI_ACCESS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS")
				if strings.Contains(err.Error(), vertexTestToken) {
					t.Errorf("error leaks the access token: %q", err)
				}
			},
		},
		{
			name:     "404 is permanent and names the project and location",
			model:    vertexTestModel,
			wantPath: vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022"),
			reply:    always(anthReply{status: 404, body: `{"error":{"code":404,"message":"Publisher Model was not found","status":"NOT_FOUND"}}`}),
			check: func(t *testing.T, _ Response, err error, _ []anthCall) {
				wantPermanent(t, err, "HTTP 404", "project "+vertexTestProject, "location us-east5")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeAnthropic{reply: tc.reply, path: tc.wantPath}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c, err := (&Registry{Getenv: vertexEnv(srv.URL, tc.env)}).Client(tc.model)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			resp, err := c.Chat(context.Background(), Request{Model: tc.model, System: "Be brief.", Messages: short})
			calls := fake.recorded()
			if len(calls) != 1 {
				t.Fatalf("fake received %d requests, want 1 (err %v)", len(calls), err)
			}
			if calls[0].path != tc.wantPath {
				t.Errorf("path = %s, want %s", calls[0].path, tc.wantPath)
			}
			if got := calls[0].header.Get("Authorization"); got != "Bearer "+vertexTestToken {
				t.Errorf("Authorization = %q, want the bearer token", got)
			}
			if got := calls[0].header.Get("X-Api-Key"); got != "" {
				t.Errorf("x-api-key = %q sent to Vertex AI", got)
			}
			tc.check(t, resp, err, calls)
		})
	}
}

func TestVertexConfigErrorsArePermanent(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		model string
		want  []string
	}{
		{"no project", map[string]string{"VERTEXAI_PROJECT": ""}, vertexTestModel, []string{"VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT", vertexTestModel}},
		{"location that is not a region", map[string]string{"VERTEXAI_LOCATION": "evil.example/x#"}, vertexTestModel, []string{"VERTEXAI_LOCATION", "evil.example"}},
		{"project with a slash", map[string]string{"VERTEXAI_PROJECT": "a/b"}, vertexTestModel, []string{"VERTEXAI_PROJECT", "a/b"}},
		{"endpoint without scheme", map[string]string{"AISCI_VERTEX_ENDPOINT": "us-east5-aiplatform.googleapis.com"}, vertexTestModel, []string{"AISCI_VERTEX_ENDPOINT"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Registry{Getenv: vertexEnv("http://127.0.0.1:1", tc.env)}).Client(tc.model)
			wantPermanent(t, err, tc.want...)
		})
	}
}

func TestVertexMissingCredentialsArePermanent(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, err := (&Registry{Getenv: vertexEnv("", map[string]string{"VERTEXAI_ACCESS_TOKEN": ""})}).Client(vertexTestModel)
	wantPermanent(t, err, "GOOGLE_APPLICATION_CREDENTIALS", "gcloud auth application-default login")
}

// TestVertexDefaultEndpoint checks the public URL and that the Anthropic
// SDK's own environment does not leak into Vertex requests.
func TestVertexDefaultEndpoint(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-from-env")
	t.Setenv("ANTHROPIC_BASE_URL", "http://from-env.invalid")
	creds := &google.Credentials{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: vertexTestToken})}
	for _, tc := range []struct{ region, want string }{
		{"", "https://us-east5-aiplatform.googleapis.com" + vertexPath("p-1", "us-east5", "claude-3-7-sonnet@20250219")},
		{"europe-west1", "https://europe-west1-aiplatform.googleapis.com" + vertexPath("p-1", "europe-west1", "claude-3-7-sonnet@20250219")},
		{"global", "https://aiplatform.googleapis.com" + vertexPath("p-1", "global", "claude-3-7-sonnet@20250219")},
	} {
		t.Run(tc.region, func(t *testing.T) {
			rt := &anthRoundTrip{}
			c, err := NewVertex(VertexConfig{Project: "p-1", Region: tc.region, Credentials: creds}, &http.Client{Transport: rt})
			if err != nil {
				t.Fatalf("NewVertex: %v", err)
			}
			resp, err := c.Chat(context.Background(), Request{Model: "claude-3-7-sonnet@20250219", Messages: []Message{{Role: "user", Content: "hi"}}})
			if err != nil || resp.Content != "hi" {
				t.Fatalf("Chat = %q, %v", resp.Content, err)
			}
			if got := rt.got.URL.String(); got != tc.want {
				t.Errorf("URL = %s, want %s", got, tc.want)
			}
			if got := rt.got.Header.Get("Authorization"); got != "Bearer "+vertexTestToken {
				t.Errorf("Authorization = %q", got)
			}
			if got := rt.got.Header.Get("X-Api-Key"); got != "" {
				t.Errorf("x-api-key = %q leaked from the environment", got)
			}
		})
	}
}

// fakeTokenServer is Google's OAuth token endpoint for service accounts:
// status 200 mints vertexTestToken, anything else refuses.
func fakeTokenServer(t *testing.T, status int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if err := r.ParseForm(); err != nil || r.PostForm.Get("assertion") == "" {
			t.Errorf("token request without a JWT assertion: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		if status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"` + vertexTestToken + `","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// serviceAccountFile writes a service-account key whose token endpoint is tokenURL.
func serviceAccountFile(t *testing.T, tokenURL string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": vertexTestProject, "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "aisci@" + vertexTestProject + ".iam.gserviceaccount.com", "client_id": "1",
		"token_uri": tokenURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestVertexApplicationDefaultCredentials runs the real credential chain
// (GOOGLE_APPLICATION_CREDENTIALS, a service-account key) against fakes.
func TestVertexApplicationDefaultCredentials(t *testing.T) {
	req := Request{Model: vertexTestModel, Messages: []Message{{Role: "user", Content: "hi"}}}
	path := vertexPath(vertexTestProject, "us-east5", "claude-3-5-sonnet-v2@20241022")

	t.Run("token minted once and reused across clients", func(t *testing.T) {
		tokens, minted := fakeTokenServer(t, http.StatusOK)
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", serviceAccountFile(t, tokens.URL))
		fake := &fakeAnthropic{reply: always(anthOK("ok", "end_turn")), path: path}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		reg := &Registry{Getenv: vertexEnv(srv.URL, map[string]string{"VERTEXAI_ACCESS_TOKEN": ""})}
		for i := range 2 {
			c, err := reg.Client(vertexTestModel)
			if err != nil {
				t.Fatalf("Client: %v", err)
			}
			if _, err := c.Chat(context.Background(), req); err != nil {
				t.Fatalf("Chat %d: %v", i, err)
			}
		}
		calls := fake.recorded()
		if len(calls) != 2 {
			t.Fatalf("fake received %d requests, want 2", len(calls))
		}
		for i, c := range calls {
			if got := c.header.Get("Authorization"); got != "Bearer "+vertexTestToken {
				t.Errorf("call %d: Authorization = %q, want the minted token", i, got)
			}
		}
		if got := minted.Load(); got != 1 {
			t.Errorf("token endpoint hit %d times, want 1 (credentials cached across clients)", got)
		}
	})

	t.Run("refused token is permanent and sends nothing", func(t *testing.T) {
		tokens, _ := fakeTokenServer(t, http.StatusBadRequest)
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", serviceAccountFile(t, tokens.URL))
		fake := &fakeAnthropic{reply: always(anthOK("never", "end_turn")), path: path}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		c, err := (&Registry{Getenv: vertexEnv(srv.URL, map[string]string{"VERTEXAI_ACCESS_TOKEN": ""})}).Client(vertexTestModel)
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		_, err = c.Chat(context.Background(), req)
		wantPermanent(t, err, "GOOGLE_APPLICATION_CREDENTIALS", "invalid_grant")
		if n := len(fake.recorded()); n != 0 {
			t.Errorf("Vertex AI received %d requests without a token", n)
		}
	})
}
