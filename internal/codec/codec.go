// Package codec encrypts Temporal payloads: research ideas, prompts, drafts
// and reviews are unpublished work, and every workflow input, result,
// memo, summary, heartbeat and failure message passes through the data
// converter before it reaches the server's database. With a key
// configured, what the server stores is AES-256-GCM ciphertext of the
// zlib-compressed payload; each payload names the key that sealed it, so
// keys can rotate (new payloads use the first key, old ones decode with
// any key still listed).
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Environment variables that configure the keys.
const (
	// KeyEnv holds base64 keys of 32 bytes, comma-separated: the first
	// encrypts, every one decrypts.
	KeyEnv = "AISCI_CODEC_KEY"
	// KeyFileEnv names a file with one base64 key per line (first:
	// current; '#' starts a comment), an alternative to KeyEnv.
	KeyFileEnv = "AISCI_CODEC_KEY_FILE"
)

// Metadata of an encrypted payload.
const (
	Encoding    = "binary/encrypted"
	metaKeyID   = "encryption-key-id"
	metaCipher  = "encryption-cipher"
	cipherName  = "AES-256-GCM"
	metaEncode  = converter.MetadataEncoding
	nonceLength = 12
)

// Key is one 256-bit key and its ID: the first 8 bytes of its SHA-256, in
// hex, so the ID says which key sealed a payload without revealing it.
type Key struct {
	ID   string
	aead cipher.AEAD
}

// ParseKey reads one base64 key (standard or URL alphabet, padded or not).
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return Key{}, errors.New("a payload key is base64 of 32 random bytes (make one with: head -c 32 /dev/urandom | base64)")
	}
	if len(raw) != 32 {
		return Key{}, fmt.Errorf("a payload key must be 32 bytes (AES-256), this one has %d (make one with: head -c 32 /dev/urandom | base64)", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return Key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256(raw)
	return Key{ID: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// Keys is a keyring: Keys[0] encrypts, all decrypt.
type Keys []Key

// ParseKeys reads comma- or newline-separated base64 keys ('#' comments).
func ParseKeys(s string) (Keys, error) {
	var ks Keys
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", len(ks)+1, err)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// FromEnv reads the keyring from AISCI_CODEC_KEY or AISCI_CODEC_KEY_FILE;
// none set is no keyring (nil, nil): payloads stay as they are.
func FromEnv(getenv func(string) string) (Keys, error) {
	if v := getenv(KeyEnv); strings.TrimSpace(v) != "" {
		ks, err := ParseKeys(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyEnv, err)
		}
		return ks, nil
	}
	if f := getenv(KeyFileEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyFileEnv, err)
		}
		ks, err := ParseKeys(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", KeyFileEnv, f, err)
		}
		if len(ks) == 0 {
			return nil, fmt.Errorf("%s %s holds no key", KeyFileEnv, f)
		}
		return ks, nil
	}
	return nil, nil
}

// Codec is the encrypting PayloadCodec.
type Codec struct{ keys Keys }

// New returns the codec of a non-empty keyring.
func New(keys Keys) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("payload encryption needs a key")
	}
	return &Codec{keys: keys}, nil
}

// Encode seals every payload with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.keys[0]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, nonceLength, nonceLength+len(plain)+k.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{metaEncode: []byte(Encoding), metaKeyID: []byte(k.ID), metaCipher: []byte(cipherName)},
			Data:     k.aead.Seal(nonce, nonce, plain, []byte(k.ID)),
		}
	}
	return out, nil
}

// Decode opens every payload this codec sealed; others pass unchanged (a
// history from before encryption was turned on still reads).
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[metaEncode]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[metaKeyID])
		k, ok := c.key(id)
		if !ok {
			return payloads, fmt.Errorf("payload encrypted with key %s, which is not among this process's keys (%s): add it to %s after the current key", id, c.ids(), KeyEnv)
		}
		if len(p.Data) < nonceLength {
			return payloads, errors.New("decrypt payload: it is too short to be one of ours")
		}
		plain, err := k.aead.Open(nil, p.Data[:nonceLength], p.Data[nonceLength:], []byte(id))
		if err != nil {
			return payloads, fmt.Errorf("decrypt payload with key %s: %w", id, err)
		}
		var dp commonpb.Payload
		if err := proto.Unmarshal(plain, &dp); err != nil {
			return payloads, fmt.Errorf("decrypt payload: %w", err)
		}
		out[i] = &dp
	}
	return out, nil
}

// KeyID names the key new payloads are sealed with.
func (c *Codec) KeyID() string { return c.keys[0].ID }

func (c *Codec) key(id string) (Key, bool) {
	for _, k := range c.keys {
		if k.ID == id {
			return k, true
		}
	}
	return Key{}, false
}

func (c *Codec) ids() string {
	ids := make([]string, len(c.keys))
	for i, k := range c.keys {
		ids[i] = k.ID
	}
	return strings.Join(ids, ", ")
}

// Codecs is the chain a data converter and a codec server use: payloads
// are compressed, then encrypted (the SDK applies codecs last to first
// when encoding).
func (c *Codec) Codecs() []converter.PayloadCodec {
	return []converter.PayloadCodec{c, converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true})}
}

// DataConverter is the default converter with payloads compressed and
// encrypted.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c.Codecs()...)
}

// FailureConverter encodes failure messages and stack traces too
// (Temporal keeps them readable otherwise).
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: c.DataConverter(), EncodeCommonAttributes: true})
}

// Handler is a codec server for the Web UI (its "codec endpoint"): it
// decodes (and encodes) payloads for the browser of someone who reaches
// it, so serve it only where the key's holders can reach it. origins are
// the Web UI addresses allowed to call it from a browser.
func (c *Codec) Handler(origins ...string) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(c.Codecs()...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(origins, o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization")
			w.Header().Set("Access-Control-Allow-Methods", "POST,OPTIONS")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		inner.ServeHTTP(w, r)
	})
}
