package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"
)

func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func mustCodec(t *testing.T, spec string) *Codec {
	t.Helper()
	ks, err := ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ks)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type idea struct {
	Title, Experiment string
}

const secret = "Grokking under label noise: a secret idea nobody has published"

func TestRoundTripAndNothingReadable(t *testing.T) {
	c := mustCodec(t, newKey(t))
	dc := c.DataConverter()
	in := idea{Title: secret, Experiment: strings.Repeat("train a transformer on modular addition; ", 200)}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.Marshal()
	if bytes.Contains(raw, []byte("secret idea")) || bytes.Contains(raw, []byte("modular addition")) {
		t.Fatal("the encoded payload holds plaintext")
	}
	if string(p.Metadata["encoding"]) != Encoding || len(p.Metadata[metaKeyID]) != 16 {
		t.Errorf("metadata %q", p.Metadata)
	}
	if len(p.Data) > len(in.Experiment)/4 {
		t.Errorf("%d bytes for %d of repetitive text: not compressed before encryption", len(p.Data), len(in.Experiment))
	}
	var out idea
	if err := dc.FromPayload(p, &out); err != nil || out != in {
		t.Fatalf("round trip: %v, %+v", err, out.Title)
	}
	// Two encodings of the same value differ (a fresh nonce each time).
	p2, _ := dc.ToPayload(in)
	if bytes.Equal(p.Data, p2.Data) {
		t.Error("the same value encrypted twice gave the same bytes")
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKeyS := newKey(t), newKey(t)
	before := mustCodec(t, oldKey)
	p, err := before.DataConverter().ToPayload(idea{Title: secret})
	if err != nil {
		t.Fatal(err)
	}
	after := mustCodec(t, newKeyS+","+oldKey) // the new key first, the old one kept for reading
	var out idea
	if err := after.DataConverter().FromPayload(p, &out); err != nil || out.Title != secret {
		t.Fatalf("an old payload after rotation: %v", err)
	}
	p2, _ := after.DataConverter().ToPayload(idea{Title: secret})
	if string(p2.Metadata[metaKeyID]) != after.keys[0].ID || after.keys[0].ID == before.keys[0].ID {
		t.Errorf("new payloads use key %s, want the new key %s", p2.Metadata[metaKeyID], after.keys[0].ID)
	}
	// Dropping the old key too soon is a clear error naming the key.
	only := mustCodec(t, newKeyS)
	err = only.DataConverter().FromPayload(p, &out)
	if err == nil || !strings.Contains(err.Error(), before.keys[0].ID) || !strings.Contains(err.Error(), KeyEnv) {
		t.Fatalf("want an error naming the missing key, got %v", err)
	}
}

func TestDecodeRefusesTamperingAndPassesPlainPayloads(t *testing.T) {
	c := mustCodec(t, newKey(t))
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	if err != nil {
		t.Fatal(err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	if _, err := c.Decode(enc); err == nil {
		t.Error("a tampered payload decoded")
	}
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"from before encryption"`)}
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Errorf("a plain payload: %v", err)
	}
}

func TestFailureMessagesAreEncoded(t *testing.T) {
	c := mustCodec(t, newKey(t))
	f := c.FailureConverter().ErrorToFailure(temporal.NewApplicationError("review of "+secret+" failed", "X"))
	raw, _ := f.Marshal()
	if bytes.Contains(raw, []byte("secret idea")) {
		t.Fatal("the failure message is readable")
	}
	back := c.FailureConverter().FailureToError(f)
	if !strings.Contains(back.Error(), secret) {
		t.Errorf("decoded failure %q", back)
	}
	var ae *temporal.ApplicationError
	if !errors.As(back, &ae) {
		t.Errorf("decoded failure is a %T", back)
	}
}

func TestKeysFromEnv(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("# rotated 2026-12\n"+k2+"\n"+k1+"  # the old one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		n       int
		wantErr string
	}{
		{name: "none: no encryption", env: map[string]string{}, n: 0},
		{name: "one key", env: map[string]string{KeyEnv: k1}, n: 1},
		{name: "a rotated pair", env: map[string]string{KeyEnv: k2 + "," + k1}, n: 2},
		{name: "a key file", env: map[string]string{KeyFileEnv: file}, n: 2},
		{name: "short key", env: map[string]string{KeyEnv: base64.StdEncoding.EncodeToString([]byte("short"))}, wantErr: "must be 32 bytes"},
		{name: "not base64", env: map[string]string{KeyEnv: "not a key!"}, wantErr: "head -c 32 /dev/urandom | base64"},
		{name: "missing file", env: map[string]string{KeyFileEnv: file + ".gone"}, wantErr: KeyFileEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(ks) != tt.n {
				t.Fatalf("%d keys, %v; want %d", len(ks), err, tt.n)
			}
		})
	}
}

var _ converter.PayloadCodec = (*Codec)(nil)

// The codec endpoint decodes what the codec encoded, for the Web UI's
// origin only.
func TestCodecServer(t *testing.T) {
	c := mustCodec(t, newKey(t))
	p, err := c.DataConverter().ToPayload(idea{Title: secret})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler("http://127.0.0.1:8233"))
	defer srv.Close()
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var got commonpb.Payloads
	if resp.StatusCode != 200 || protojson.Unmarshal(out, &got) != nil || len(got.Payloads) != 1 {
		t.Fatalf("decode: %d %s", resp.StatusCode, out)
	}
	if !strings.Contains(string(got.Payloads[0].Data), secret) {
		t.Errorf("decoded payload %q", got.Payloads[0].Data)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" {
		t.Errorf("CORS headers %v", resp.Header)
	}
	req, _ = http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", "http://evil.example")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("another origin is allowed")
	}
}
